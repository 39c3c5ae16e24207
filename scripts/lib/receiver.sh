# Helpers shared by the benchmark scripts that run a receiver (syslogkit listen, rsyslog,
# syslog-ng) and read its output file: sourced, not run. Needs $clk (getconf CLK_TCK).

# wait_listening NAME PORT PID ERRFILE: until something listens on TCP PORT (at most 5 s).
wait_listening() {
  for _ in $(seq 100); do
    ss -ltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.05
  done
  echo "$1 did not listen on $2" >&2; cat "$4" >&2; exit 1
}

# The receiver's CPU seconds (user + system) and peak RSS in MiB, from /proc.
cpu_s() { awk -v clk="$clk" '{printf "%.2f", ($14 + $15) / clk}' "/proc/$1/stat"; }
rss_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# Lines in FILE, 0 while it does not exist.
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

# wait_output FILE SENT QUIET_POLLS MAX_POLLS [COUNT]: polls FILE every 50 ms until it has SENT
# lines, or has not grown for QUIET_POLLS polls, or MAX_POLLS polls have passed. Sets $last
# (its lines) and $t_last (when they last grew; unchanged if they never did). COUNT: the
# function that counts (default `lines`), given FILE.
wait_output() {
  local now quiet=0 count=${5:-lines}
  last=-1
  for _ in $(seq "$4"); do
    now=$("$count" "$1")
    if [ "$now" != "$last" ]; then last=$now; t_last=$(date +%s.%N); quiet=0; else quiet=$((quiet + 1)); fi
    [ "$now" -ge "$2" ] && break
    [ $quiet -ge "$3" ] && break
    sleep 0.05
  done
}
