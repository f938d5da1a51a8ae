# shellcheck shell=bash
# Shared by the deployment commands (scripts/push-image, deploy-collector, deploy-forwarders,
# deploy, roll-image, send-test-event); sourced, not run.
#
# Every AWS call goes through `aws_run` (its output is for the person), `aws_probe` (read-only:
# does it exist?) or `aws_output` (its output is needed). With --dry-run nothing is called: each
# call is printed on stdout as a shell command line, probes answering as if nothing existed yet
# (a first deployment), or as if everything existed with --dry-run-existing. `****` stands for
# a secret.

dry_run=0
assume_exists=0
aws_global=()
secrets=()

# Progress and errors go to stderr; stdout holds only the calls printed by a dry run and the
# commands' results.
say() { printf '%s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 2
}

# One shell word per argument, quoted only when needed, secrets replaced by ****.
quote() {
  local word safe='^[A-Za-z0-9_./:=,@%+-]+$' line=() secret
  for word in "$@"; do
    for secret in "${secrets[@]+"${secrets[@]}"}"; do
      [ -n "$secret" ] && word="${word//"$secret"/****}"
    done
    if [[ $word =~ $safe ]]; then
      line+=("$word")
    else
      line+=("'${word//\'/\'\\\'\'}'")
    fi
  done
  printf '%s\n' "${line[*]}"
}

# Prints a call (dry run) on the original stdout, even from inside $(…).
exec 3>&1
show() { quote "$@" >&3; }

# The command's header comment, as its --help.
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }

# Options every command takes; returns 1 for an option it does not know.
#   --dry-run, --dry-run-existing, --region R, --profile P
common_option() {
  case "$1" in
    --dry-run) dry_run=1 ;;
    --dry-run-existing)
      dry_run=1
      assume_exists=1
      ;;
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

# After option parsing: the Region (option, then AWS_REGION, AWS_DEFAULT_REGION) and the
# arguments every aws call gets.
setup_aws() {
  region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
  [ -n "$region" ] || die "no Region: pass --region (or set AWS_REGION)"
  aws_global=(--region "$region")
  if [ -n "${profile:-}" ]; then
    aws_global+=(--profile "$profile")
  fi
  if [ "$dry_run" = 1 ]; then
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

# The account the credentials belong to; --account, when given, must match it.
resolve_account() {
  local given="${1:-}" actual
  actual=$(aws_output "${given:-ACCOUNT_ID}" sts get-caller-identity --query Account --output text)
  if [ -n "$given" ] && [ "$actual" != "$given" ]; then
    die "these credentials are for account $actual, not $given"
  fi
  printf '%s\n' "$actual"
}

# The image tag of this checkout: its commit, refused when uncommitted changes would make two
# different images share one (immutable) tag.
default_tag() {
  git diff --quiet HEAD -- 2> /dev/null || die "uncommitted changes: commit them, or pass --tag"
  git rev-parse --short=12 HEAD
}

image_uri() {
  local account="$1" repository="$2" tag="$3"
  printf '%s.dkr.ecr.%s.amazonaws.com/%s:%s\n' "$account" "$region" "$repository" "$tag"
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
