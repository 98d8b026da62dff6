/* bench/startup: the smallest static program, /bin/true's job; what it costs is the start and the exit. */
int main(void) {
  return 0;
}
