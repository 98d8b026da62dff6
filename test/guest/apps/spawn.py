# Files in /tmp and processes made every way Python makes them; the output is compared with native's.
import os, re, subprocess, tempfile, shutil, multiprocessing
def square(x): return x * x
if __name__ == "__main__":
    d = tempfile.mkdtemp()
    p = os.path.join(d, "data.txt")
    with open(p, "w") as f:
        for i in range(1000): f.write(f"{i} {i * i}\n")
    print(sum(int(l.split()[1]) for l in open(p)))
    # TemporaryFile opens the directory O_TMPFILE: an unnamed file, "/tmp/#INO (deleted)" in /proc.
    with tempfile.TemporaryFile(dir=d) as f:
        f.write(b"unnamed")
        f.seek(0)
        link = os.readlink(f"/proc/self/fd/{f.fileno()}")
        print(f.read(), os.fstat(f.fileno()).st_nlink, re.sub(r"^.*/#\d+", "#INO", link), os.listdir(d))
    r = subprocess.run(["sort", "-n", "-r", p], capture_output=True, text=True)
    print(r.returncode, r.stdout.splitlines()[:2], repr(r.stderr))
    p1 = subprocess.Popen(["cat", p], stdout=subprocess.PIPE)
    p2 = subprocess.Popen(["grep", "-c", "7"], stdin=p1.stdout, stdout=subprocess.PIPE)
    p1.stdout.close()
    print(p2.communicate()[0].decode().strip(), p1.wait(), p2.wait())
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    print("child", os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
    print(subprocess.check_output("echo $((6 * 7)) | tr 4 X", shell=True).decode().strip())
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(10)))
    shutil.rmtree(d)
    print(os.path.exists(d))
