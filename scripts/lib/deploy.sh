# shellcheck shell=bash
# Shared by the deployment commands (scripts/push-image, deploy-collector, deploy-forwarders,
# deploy, roll-image, send-test-event); sourced, not run, after each command has set `script` (its
# own absolute path) and `caller_dir` (where it was started) and moved to the repository's root.
#
# Every AWS call goes through `aws_run` (its output is for the person), `aws_probe` (read-only:
# does it exist?) or `aws_output` (its output is needed). With --dry-run nothing is called: each
# call is printed on stdout as a shell command line, probes answering as if nothing existed yet
# (a first deployment), or as if everything existed with --dry-run-existing. `****` stands for
# a secret. With --check-only a command validates its inputs (read-only probes at most), prints
# nothing on stdout and exits.
#
# Secrets never reach a process's arguments (which every user of the machine can read): they
# travel in the environment of the command that needs them and, for the AWS CLI, in files only
# this user can read (`private_file`), removed when the command exits.

dry_run=0
assume_exists=0
check_only=0
region_ok=0
aws_global=()
secrets=()
problems=()
partition=aws
url_suffix=amazonaws.com

# Progress and errors go to stderr; stdout holds only the calls printed by a dry run and the
# commands' results.
say() { printf '%s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 2
}

# A problem with the inputs, reported with every other one by `checked`.
problem() { problems+=("$*"); }

# After validation: every problem at once (exit 2), or, with --check-only, the end.
checked() {
  if [ ${#problems[@]} -gt 0 ]; then
    printf 'error: %s\n' "${problems[@]}" >&2
    exit 2
  fi
  if [ "$check_only" = 1 ]; then
    exit 0
  fi
}

# Text with every secret replaced by ****.
mask() {
  local text="$1" secret
  for secret in "${secrets[@]+"${secrets[@]}"}"; do
    [ -n "$secret" ] && text="${text//"$secret"/****}"
  done
  printf '%s\n' "$text"
}

# One shell word per argument, quoted only when needed, secrets replaced by ****.
quote() {
  local word safe='^[A-Za-z0-9_./:=,@%+-]+$' line=()
  for word in "$@"; do
    word="$(mask "$word")"
    if [[ $word =~ $safe ]]; then
      line+=("$word")
    else
      line+=("'${word//\'/\'\\\'\'}'")
    fi
  done
  printf '%s\n' "${line[*]}"
}

# Prints a call (dry run) on the original stdout, even from inside $(…); never with --check-only.
# (>&3 shares the descriptor: `> /dev/fd/3` would reopen, and so truncate, a file stdout goes to.)
exec 3>&1
quiet=0
show() {
  [ "$check_only" = 1 ] || [ "$quiet" = 1 ] || quote "$@" >&3
}

# A call made (or, in a dry run, answered) without printing it.
quietly() {
  local status=0
  quiet=1
  "$@" || status=$?
  quiet=0
  return "$status"
}

# The command's header comment, as its --help. (script and caller_dir: set by the command.)
# shellcheck disable=SC2154
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$script"; }

# A path the person gave, relative to where they started the command.
# shellcheck disable=SC2154
from_caller() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$caller_dir/$1" ;;
  esac
}

# Options every command takes; returns 1 for an option it does not know.
#   --dry-run, --dry-run-existing, --check-only, --region R, --profile P
common_option() {
  case "$1" in
    --dry-run) dry_run=1 ;;
    --dry-run-existing)
      dry_run=1
      assume_exists=1
      ;;
    --check-only) check_only=1 ;;
    --region) region="${2:?--region needs a Region}" ;;
    --profile) profile="${2:?--profile needs a profile name}" ;;
    *) return 1 ;;
  esac
}

# How many words common_option consumed for "$1".
common_option_width() {
  case "$1" in
    --region | --profile) echo 2 ;;
    *) echo 1 ;;
  esac
}

# The partition and DNS suffix of a Region: ARNs and endpoints differ in China and GovCloud.
partition_of() {
  case "$1" in
    cn-*) echo aws-cn ;;
    us-gov-*) echo aws-us-gov ;;
    *) echo aws ;;
  esac
}
url_suffix_of() {
  case "$1" in
    cn-*) echo amazonaws.com.cn ;;
    *) echo amazonaws.com ;;
  esac
}

# After option parsing: the Region (option, then AWS_REGION, AWS_DEFAULT_REGION), its
# partition, and the arguments every aws call gets (region_ok, partition, url_suffix are the
# commands' to read).
# shellcheck disable=SC2034
setup_aws() {
  region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
  region_ok=0
  if [ -z "$region" ]; then
    problem "no Region: pass --region (or set AWS_REGION)"
  elif ! [[ $region =~ ^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$ ]]; then
    problem "--region $region is not a Region name (eu-west-1, cn-north-1, us-gov-west-1)"
  else
    region_ok=1
  fi
  partition=$(partition_of "$region")
  url_suffix=$(url_suffix_of "$region")
  aws_global=(--region "$region")
  if [ -n "${profile:-}" ]; then
    aws_global+=(--profile "$profile")
  fi
  if [ "$dry_run" = 1 ] && [ "$check_only" = 0 ]; then
    say "dry run: these calls would be made (probes as if $([ "$assume_exists" = 1 ] && echo 'everything existed' || echo 'nothing existed yet'))"
  fi
}

# A call that changes something.
run() {
  if [ "$dry_run" = 1 ]; then
    show "$@"
  else
    "$@"
  fi
}

# An aws call that changes something.
aws_run() { run aws "$@" "${aws_global[@]}"; }

# A read-only aws call whose success means "it exists".
aws_probe() {
  if [ "$dry_run" = 1 ]; then
    show aws "$@" "${aws_global[@]}"
    [ "$assume_exists" = 1 ]
  else
    aws "$@" "${aws_global[@]}" > /dev/null 2>&1
  fi
}

# An aws call whose text output the command needs (an account id, an operation id); in a dry run
# it is printed, not made, and its output is PLACEHOLDER.
#   x=$(aws_output PLACEHOLDER sts get-caller-identity --query Account --output text)
aws_output() {
  local placeholder="$1"
  shift
  if [ "$dry_run" = 1 ]; then
    show aws "$@" "${aws_global[@]}"
    printf '%s\n' "$placeholder"
  else
    aws "$@" "${aws_global[@]}"
  fi
}

# A directory only this user can enter, for the files secrets travel in; removed on exit.
private_dir=
make_private_dir() {
  if [ -z "$private_dir" ]; then
    private_dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/delibird.XXXXXXXX")
    trap 'rm -rf "$private_dir"' EXIT
  fi
}

# Stdin into a file readable by this user alone (mode 0600, in a 0700 directory removed when the
# command exits); sets private_path to it, for `file://$private_path`. In a dry run nothing is
# written: private_path is NAME, and the content, secrets masked, is printed as a comment above
# the call that reads it. Call it in this shell (private_file NAME < <(…)), not in a pipeline or
# $(…), which would lose private_path.
private_path=
private_file() {
  local name="$1" content
  if [ "$dry_run" = 1 ]; then
    content=$(cat)
    [ "$check_only" = 1 ] || printf '# %s (a file only you can read, removed afterwards): %s\n' "$name" "$(mask "$content")" >&3
    private_path="$name"
  else
    make_private_dir
    private_path="$private_dir/$name"
    (umask 077 && cat > "$private_path")
  fi
}

# NUL-separated strings on stdin as one JSON array of strings (python3 reads them from stdin, so
# no secret among them reaches an argument list).
json_strings() {
  python3 -c 'import json, sys; print(json.dumps(sys.stdin.buffer.read().decode().split("\0")[:-1]))'
}

# NUL-separated Name=value overrides on stdin, checked against the Parameters of TEMPLATE
# (scripts/lib/check_parameters.py): one "Name<TAB>problem" line each.
check_against_template() { python3 scripts/lib/check_parameters.py "$1"; }

# Problems with a Google Chat webhook URL, each naming what is wrong, never repeating the URL.
#   check_webhook_url DELIBIRD_WEBHOOK_URL "$url"
check_webhook_url() {
  local label="$1" url="$2" query missing=()
  local expected='https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN'
  local form='^https://chat\.googleapis\.com/v1/spaces/[^/?#]+/messages\?(.*)$'
  local characters="^[A-Za-z0-9._~:/?#@!\$&'()*+,;=%-]+$"
  if ! [[ $url =~ $form ]]; then
    problem "$label is not a Google Chat webhook URL: expected $expected"
    return
  fi
  query="&${BASH_REMATCH[1]}"
  [[ $query =~ \&key=[^\&]+ ]] || missing+=(key)
  [[ $query =~ \&token=[^\&]+ ]] || missing+=(token)
  case "${missing[*]}" in
    "key token") problem "$label lacks the key and token query parameters: expected $expected" ;;
    ?*) problem "$label lacks the ${missing[*]} query parameter: expected $expected" ;;
  esac
  [[ $url =~ $characters ]] || problem "$label holds characters no webhook URL has (quotes, spaces, backslashes)"
}

# The account the credentials belong to; --account, when given, must match it.
resolve_account() {
  local given="${1:-}" actual
  actual=$(aws_output "${given:-ACCOUNT_ID}" sts get-caller-identity --query Account --output text)
  if [ -n "$given" ] && [ "$actual" != "$given" ]; then
    die "these credentials are for account $actual, not $given"
  fi
  printf '%s\n' "$actual"
}

# The image tag of this checkout: its commit; fails when uncommitted changes would make two
# different images share one (immutable) tag.
#   tag=$(default_tag) || problem "$uncommitted"
# shellcheck disable=SC2034 # the commands report it
uncommitted="uncommitted changes: commit them, or pass --tag"
default_tag() {
  git diff --quiet HEAD -- 2> /dev/null || return 1
  git rev-parse --short=12 HEAD
}

# Problems with an image tag this checkout would be built and pushed under: a tag that looks like
# a commit must be this one, committed, or it would publish one commit's code under another's.
check_build_tag() {
  local tag="$1" head
  if ! [[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    problem "--tag $tag is not an image tag (letters, digits, _ . -, at most 128)"
  elif [[ $tag =~ ^[0-9a-f]{7,40}$ ]]; then
    head=$(git rev-parse HEAD 2> /dev/null || echo none)
    if [ "${head#"$tag"}" = "$head" ]; then
      problem "--tag $tag names a commit, but this checkout is ${head:0:12}: check out $tag and build there, or choose another tag"
    elif ! git diff --quiet HEAD -- 2> /dev/null; then
      problem "--tag $tag is this commit, but the checkout has uncommitted changes the image would hold"
    fi
  fi
}

image_uri() {
  local account="$1" repository="$2" tag="$3"
  printf '%s.dkr.ecr.%s.%s/%s:%s\n' "$account" "$region" "$url_suffix" "$repository" "$tag"
}

# Waits for a StackSet operation to end; fails unless it SUCCEEDED.
wait_stack_set_operation() {
  local stack_set="$1" operation="$2" status
  shift 2
  if [ "$dry_run" = 1 ]; then
    show aws cloudformation describe-stack-set-operation --stack-set-name "$stack_set" --operation-id "$operation" \
      --query StackSetOperation.Status --output text "$@" "${aws_global[@]}"
    return 0
  fi
  while :; do
    status=$(aws cloudformation describe-stack-set-operation --stack-set-name "$stack_set" --operation-id "$operation" \
      --query StackSetOperation.Status --output text "$@" "${aws_global[@]}")
    case "$status" in
      SUCCEEDED) return 0 ;;
      FAILED | STOPPED) die "StackSet operation $operation: $status (aws cloudformation list-stack-set-operation-results --stack-set-name $stack_set --operation-id $operation)" ;;
      *) sleep 15 ;;
    esac
  done
}
