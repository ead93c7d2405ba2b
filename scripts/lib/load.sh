# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # work comes from the sourcing script; kafka_* are set for it
# Pieces shared by the load benchmarks (sourced by scripts/bench-load and scripts/bench-fleet):
# installing a Debian package, free ports and waiting for a listener, CPU time of a process,
# the signed GitHub push payloads, starting Apache Kafka, and reading the topic back to check
# that every webhook answered 2xx is on it.
#
# The sourcing script defines `die MESSAGE` (prints and exits non-zero) and `work` (its work
# directory, where logs are) before calling any of these.
#
#   apt_install PACKAGE                   Debian's package, with sudo unless root
#   free_port                             a loopback port outside the ephemeral range, unused
#   wait_for_port PORT SECONDS            until something listens on PORT
#   wait_for_line PID FILE PREFIX WHAT    until FILE has a line starting with PREFIX; prints
#                                         the rest of it
#   cpu_ticks PID                         user + system time of all its threads (clock ticks)
#   size_bytes SIZE                       "1k" -> 1024, "2m" -> 2097152, "1500" -> 1500
#   push_payload BYTES                    a GitHub push of exactly BYTES that validates against
#                                         schemas/github/push.json
#   kafka_start DIR PORT LOG              Apache Kafka (scripts/kafka-broker, 1 GiB heap, full
#                                         JIT) in the background; $! is the JVM's pid
#   kafka_readback HOOKGATE BROKERS TOPIC ACKED_SORTED
#                                         reads TOPIC from the beginning into $work/kafka-sorted
#                                         (one ce_id a line, sorted) and looks every id of the
#                                         sorted file ACKED_SORTED up, up to three times;
#                                         sets kafka_found, kafka_records, kafka_records_unique

apt_install() { # package
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y "$1" ||
    { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update && "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y "$1"; }
}

# A port outside Linux's ephemeral range (32768-60999) that nothing listens on.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

wait_for_port() { # port seconds
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || die "nothing listens on port $1 after $2 s"
    sleep 0.1
  done
}

# Waits until FILE has a line starting with PREFIX (printed by process PID); prints the rest.
wait_for_line() { # pid file prefix what
  local deadline=$((SECONDS + 60)) line
  while :; do
    line=$(sed -n "s|^$3||p" "$2" | head -n 1)
    if [[ -n $line ]]; then
      echo "$line"
      return
    fi
    kill -0 "$1" 2>/dev/null || die "$4 exited before listening (log in $work)"
    [[ $SECONDS -lt $deadline ]] || die "$4 did not start within 60 s (log in $work)"
    sleep 0.1
  done
}

# CPU time (user + system, all threads) of a process, in clock ticks.
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# "1k" -> 1024, "64k" -> 65536, "2m" -> 2097152, "1500" -> 1500.
size_bytes() {
  case $1 in
    *[kK]) echo $((${1%[kK]} * 1024)) ;;
    *[mM]) echo $((${1%[mM]} * 1024 * 1024)) ;;
    *[!0-9]* | '') die "payload size '$1': expected bytes or a k/m suffix" ;;
    *) echo "$1" ;;
  esac
}

# A GitHub push payload of exactly N bytes that validates against schemas/github/push.json:
# commits are added while they fit, then the first commit's message is padded to the size.
push_commit() { # variable sha message
  printf -v "$1" '{"id":"%s","message":"%s","timestamp":"2026-11-23T12:58:35Z","author":{"name":"Octo Cat","email":"octocat@example.com"},"added":[],"removed":[],"modified":["README.md"]}' "$2" "$3"
}
push_payload() { # bytes
  local target=$1
  local head='{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","created":false,"deleted":false,"forced":false,"compare":"https://github.com/octo-org/hello-world/compare/6113728f27ae...59b20b8d5c6f","repository":{"id":35129377,"name":"hello-world","full_name":"octo-org/hello-world","private":false,"owner":{"login":"octo-org","id":6811672},"default_branch":"main"},"pusher":{"name":"octocat","email":"octocat@example.com"},"sender":{"login":"octocat","id":583231},"commits":['
  local middle='],"head_commit":'
  local message="Update README.md"
  local first_sha="" first="" rest="" rest_len=0 last="" commit sha i=1 size
  while :; do
    # 40 lowercase hex digits, different for every commit.
    printf -v sha '%08x%08x%08x%08x%08x' $((i * 2654435761 % 4294967296)) $((i * 97 + 1234567)) \
      $(((i + 7) * 40503 % 4294967296)) $((i * i * 31 % 4294967296)) $((3141592653 ^ i))
    push_commit commit "$sha" "$message"
    # Size with this commit appended (it becomes the head commit too).
    if [[ -z $first_sha ]]; then
      size=$((${#head} + ${#commit} + ${#middle} + ${#commit} + 1))
    else
      size=$((${#head} + ${#first} + rest_len + 1 + ${#commit} + ${#middle} + ${#commit} + 1))
    fi
    if [[ $size -gt $target ]]; then
      [[ -n $first_sha ]] || die "payload size $target is below the smallest push payload ($size bytes)"
      break
    fi
    if [[ -z $first_sha ]]; then
      first_sha=$sha
      first=$commit
    else
      rest+=",$commit"
      rest_len=$((rest_len + 1 + ${#commit}))
    fi
    last=$commit
    i=$((i + 1))
  done
  # Pad the first commit's message (the head commit keeps its own) to reach the exact size.
  local pad=$((target - ${#head} - ${#first} - rest_len - ${#middle} - ${#last} - 1))
  local filler=" Clarify the setup steps, fix typos and links, and describe every option."
  while [[ ${#message} -lt $((16 + pad)) ]]; do message+=$filler; done
  push_commit first "$first_sha" "${message:0:$((16 + pad))}"
  printf '%s%s%s%s%s}' "$head" "$first" "$rest" "$middle" "$last"
}

# Apache Kafka, single node, 1 GiB heap, fully optimizing JIT. exec: the background job's pid
# ($! after this returns) is the JVM's, whose CPU the benchmarks report.
kafka_start() { # dir port log
  (HOOKGATE_KAFKA_HEAP=1g HOOKGATE_KAFKA_FULL_JIT=1 exec scripts/kafka-broker "$1" "$2" "$(free_port)" \
    >"$3" 2>&1) &
}

# Every 2xx on Kafka: the gateway answers {"id":"<envelope id>"}, and each record carries that
# id in its ce_id header. Reads the whole topic back (hookgate tail stops at the end each
# partition had when it started; a broker can take a while to serve the first fetch of millions
# of records, hence the long idle timeout) and looks every acknowledged id up; a broker may
# serve a fetch late, so it reads again (from the beginning) before calling anything missing.
kafka_readback() { # hookgate brokers topic acked-sorted
  local hookgate=$1 brokers=$2 topic=$3 acked_sorted=$4
  local acked again attempt
  acked=$(wc -l <"$acked_sorted")
  kafka_found=0 kafka_records=0 kafka_records_unique=0
  : >"$work/kafka-sorted"
  for attempt in 1 2 3; do
    [[ $acked -gt 0 ]] || break # nothing was acknowledged: nothing to look up
    if [[ $attempt -eq 1 ]]; then again=""; else again=" (again: ids were missing)"; fi
    echo "reading $topic back from the broker$again"
    "$hookgate" tail --brokers "$brokers" --topic "$topic" --idle-timeout 300 2>"$work/tail.log" |
      cut -c1-1000 | { grep -o '"ce_id":"[^"]*"' || true; } | cut -d'"' -f4 | sort >"$work/kafka-sorted" ||
      die "cannot read $topic back: $(cat "$work/tail.log")"
    kafka_records=$(wc -l <"$work/kafka-sorted")
    kafka_records_unique=$(uniq "$work/kafka-sorted" | wc -l)
    kafka_found=$(comm -12 "$acked_sorted" <(uniq "$work/kafka-sorted") | wc -l)
    [[ $kafka_found -lt $acked ]] || break
    sleep 5
  done
}
