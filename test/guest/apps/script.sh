# Most of the bash language in one script: its output is compared with a native run.
set -e
f() { local x=$1; echo "f($x) = $((x * x))"; }
for i in 1 2 3; do f $i; done
n=0; while [ $n -lt 5 ]; do n=$((n + 1)); done; echo "n=$n"
echo "sub: $(echo hello | tr a-z A-Z), nested: $(echo $(echo deep))"
seq 1 100 | grep 7 | sort -r | head -3
d=$(mktemp -d)
echo one > $d/a; echo two >> $d/a; cat < $d/a | wc -l
cat > $d/here <<END
line one $n
line two \$n
END
cat $d/here
exec 3> $d/fd3; echo via fd3 >&3; exec 3>&-; cat $d/fd3
ls /nonexistent 2>/dev/null || echo "status $?"
# Before any trap: a child killed before it resets the handlers it inherits would run the parent's
# EXIT trap (bash's own race, seen natively too when the child is slow to start).
sleep 10 & pid=$!; kill $pid; wait $pid || echo "background job ended by signal $(( $? - 128 ))"
trap 'echo trapped EXIT' EXIT
trap 'echo got USR1' USR1
kill -USR1 $$
case "abc" in a*) echo case ok;; esac
arr=(x y z); echo "${#arr[@]} ${arr[1]} ${arr[*]: -1}"
declare -A m; m[k]=v; echo "${m[k]}"
{ echo group; echo out; } | tac
( cd $d && echo "subshell $(basename $PWD | wc -c)" )
read -r a b <<< "w1 w2"; echo "$b $a"
printf '%05d|%-4s|%x\n' 42 ab 255
for w in $(seq 3); do echo -n "$w "; done; echo
rm -rf $d
