# shellcheck shell=bash
# Files the result of a benchmark or fault script under bench/results/, every script the same
# way (sourced by scripts/bench-load, scripts/bench-fleet, scripts/outage, scripts/bench,
# scripts/bench-callgrind; bench/README.md describes the layout).
#
#   results_begin KIND SCRIPT [ARG...]  at the start: the date, the commit (+dirty), the
#                                       toolchain and the machine, taken before anything runs
#   results_env NAME DEFAULT            a setting from the environment: its value, or the
#                                       default marked "(default)"; every env var that changes
#                                       the run gets one
#   results_set KEY VALUE               a header fact: profile, broker, load-tool, harness
#   results_smoke REASON                not a full run: a test of the script with short
#                                       settings (the file is NAME.smoke.txt, ignored by git)
#   results_partial REASON              a real run of part of the script's cases or scenarios
#                                       (NAME.partial.txt)
#   results_file STATUS BODY_FILE       writes the header then BODY_FILE to
#                                       bench/results/KIND/<UTC start>-<short commit>[.CLASS].txt;
#                                       prints its path
#
# STATUS is `ok` or what went wrong (e.g. `failed (exit 1)`); a run that did not end ok is
# filed as NAME.failed.txt. The rule for latest.txt: it is a copy of the newest file with no
# class, i.e. of a full run that ended ok; smoke, partial and failed runs never replace it.
# Which settings make a run smoke or partial is each script's call (its header comment says);
# HOOKGATE_RESULTS_RUN=smoke marks any run smoke by hand.

results_root=${HOOKGATE_RESULTS_DIR:-bench/results}

declare -A results_fact=()
results_envs=()
results_smokes=()
results_partials=()

# Quietly the first line of a command's output, or "unknown".
results_first_line() {
  local out
  out=$("$@" 2>&1 | head -n 1) || true
  echo "${out:-unknown}"
}

results_begin() { # kind script [args...]
  results_kind=$1
  results_script=$2
  shift 2
  results_args=("$@")
  results_start=$(date -u +%s)
  results_envs=()
  results_smokes=()
  results_partials=()
  results_fact=()

  # The commit, and whether the tree differed from it (results already filed do not count).
  local head dirty
  head=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  results_short=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git status --porcelain --untracked-files=normal -- . ":(exclude)$results_root" 2>/dev/null || true)
  if [[ -n $dirty ]]; then
    results_fact[commit]="$head+dirty"
    results_fact[dirty-paths]=$(awk 'NR <= 10 { printf "%s%s", (NR > 1 ? " " : ""), $NF }' <<<"$dirty")
    if [[ $(wc -l <<<"$dirty") -gt 10 ]]; then
      results_fact[dirty-paths]+=" (and $(($(wc -l <<<"$dirty") - 10)) more)"
    fi
  else
    results_fact[commit]=$head
  fi
  results_fact[branch]=$(git symbolic-ref --short -q HEAD 2>/dev/null || echo "detached")
  results_fact[rustc]=$(results_first_line rustc -V)
  results_fact[cargo]=$(results_first_line cargo -V)
  local flags=()
  local v
  for v in RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR; do
    if [[ -n ${!v:-} ]]; then flags+=("$v=${!v}"); fi
  done
  while IFS= read -r v; do flags+=("$v"); done < <(env | grep '^CARGO_PROFILE_' | sort || true)
  results_fact[build-env]=${flags[*]:-none}
  results_fact[cpu]=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
  results_fact[cpus]="$(nproc) (nproc); $(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo '?') in /proc/cpuinfo"
  results_fact[memory]=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
    END { printf "%.1f GiB total, %.1f GiB available at start", t / 1048576, a / 1048576 }' /proc/meminfo)
  results_fact[load-average]="$(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at start)"
  results_fact[kernel]="$(uname -s) $(uname -r) $(uname -m)"
  results_fact[os]=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
  results_fact[profile]=unknown
  results_fact[broker]=none
  results_fact[load-tool]=none
  results_fact[harness]=none
  if [[ ${HOOKGATE_RESULTS_RUN:-} == smoke ]]; then results_smoke "HOOKGATE_RESULTS_RUN=smoke"; fi
}

results_env() { # name default
  local name=$1 default=$2
  if [[ -n ${!name+set} ]]; then
    results_envs+=("env $name: ${!name}")
  else
    if [[ -n $default ]]; then
      results_envs+=("env $name: $default (default)")
    else
      results_envs+=("env $name: (unset, the default)")
    fi
  fi
}

results_set() { results_fact[$1]=$2; }
results_smoke() { results_smokes+=("$1"); }
results_partial() { results_partials+=("$1"); }

# A cargo profile as Cargo.toml sets it: `production (inherits = "release", lto = "fat", ...)`.
results_profile() { # name [what builds with it]
  local name=$1 what=${2:-} section
  section=$(results_profile_keys "$name")
  if [[ $name == bench && -z $section ]]; then
    section="cargo's default: inherits release: $(results_profile_keys release)"
  fi
  echo "$name${section:+ ($section)}${what:+; $what}"
}
results_profile_keys() { # name
  awk -v s="[profile.$1]" '
    $0 == s { on = 1; next }
    /^\[/ { on = 0 }
    on && /=/ { sub(/[ \t]*#.*/, ""); gsub(/[ \t]+/, " "); printf "%s%s", (n++ ? ", " : ""), $0 }' Cargo.toml
}

# Apache Kafka as scripts/install-kafka installed it, and the JVM that runs it.
results_kafka() { # [how it runs]
  local home=${HOOKGATE_KAFKA_HOME:-target/apache-kafka}
  local version java
  version=$(cat "$home/installed" 2>/dev/null || echo "unknown (no $home/installed)")
  java=$(results_first_line java -version)
  echo "Apache Kafka $version (jars from Maven Central in $home/libs; JVM: $java)${1:+; $1}"
}

# The version of a crate in Cargo.lock.
results_crate() { # name
  awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock
}

results_file() { # status body-file
  local status=$1 body=$2
  local end stamp class="" reason=""
  end=$(date -u +%s)
  stamp=$(date -u -d "@$results_start" +%Y%m%dT%H%M%SZ)
  # The class is the first that applies of smoke, failed, partial; the reasons name them all.
  if [[ ${#results_smokes[@]} -gt 0 ]]; then
    class=smoke
  elif [[ $status != ok ]]; then
    class=failed
  elif [[ ${#results_partials[@]} -gt 0 ]]; then
    class=partial
  fi
  if [[ ${#results_smokes[@]} -gt 0 ]]; then reason+="smoke: $(printf '%s; ' "${results_smokes[@]}")"; fi
  if [[ $status != ok ]]; then reason+="failed: the status is not ok; "; fi
  if [[ ${#results_partials[@]} -gt 0 ]]; then reason+="partial: $(printf '%s; ' "${results_partials[@]}")"; fi
  reason=${reason%; }
  local dir=$results_root/$results_kind
  mkdir -p "$dir"
  local file=$dir/$stamp-$results_short${class:+.$class}.txt n=2
  # Two runs started in the same second: the second gets _2 after its commit (sorting after the
  # first), never overwrites it.
  while [[ -e $file ]]; do
    file=$dir/$stamp-${results_short}_$n${class:+.$class}.txt
    n=$((n + 1))
  done
  local args="(none)"
  if [[ ${#results_args[@]} -gt 0 ]]; then args=$(printf '%q ' "${results_args[@]}"); args=${args% }; fi
  {
    echo "kind: $results_kind"
    echo "run: ${class:-full}${reason:+ ($reason)}"
    echo "status: $status"
    echo "script: $results_script"
    echo "arguments: $args"
    if [[ ${#results_envs[@]} -gt 0 ]]; then printf '%s\n' "${results_envs[@]}"; fi
    local key
    for key in commit dirty-paths branch profile build-env rustc cargo cpu cpus memory \
      load-average kernel os broker load-tool harness; do
      if [[ -n ${results_fact[$key]+set} ]]; then echo "$key: ${results_fact[$key]}"; fi
    done
    echo "date: $(date -u -d "@$results_start" +%Y-%m-%dT%H:%M:%SZ)"
    echo "finished: $(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ) ($((end - results_start)) s)"
    echo
    cat "$body"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
  if [[ -z $class ]]; then
    cp "$file" "$dir/latest.txt"
    echo "results: $file (and $dir/latest.txt)" >&2
  else
    echo "results: $file ($class run: $dir/latest.txt left as it was)" >&2
  fi
  results_path=$file
}
