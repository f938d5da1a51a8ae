"""The deployment commands' dry runs: the AWS CLI (and docker) calls each would make, in order,
for a first deployment (--dry-run) and for one that exists (--dry-run-existing). `aws` and
`docker` on PATH are stand-ins that fail the test if anything calls them. Then the same commands
for real against a stand-in AWS CLI that answers and records every call, with every other
program they start recorded too: no argument list holds a webhook. Run by scripts/check-infra
(pytest)."""

import json
import os
import pathlib
import re
import shlex
import shutil
import stat
import subprocess
import sys

import pytest

from cfn import ROOT, load

REGION = "eu-west-1"
ACCOUNT = "111122223333"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/delibird:t1"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/delibird-collector"
WEBHOOK = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY&token=SECRET-TOKEN"
ONCALL = "https://chat.googleapis.com/v1/spaces/BBBB/messages?key=KEY&token=ONCALL-TOKEN"
EXPECTED_FORM = "https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN"
ORGANIZATION = "o-abcdefghij"
RULES = """default = "platform"
drop_unmatched = false

[webhooks]
platform = "ssm:/delibird/webhooks/platform"
oncall = "ssm:/delibird/webhooks/oncall"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"""


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory):
    """A PATH whose aws and docker record any call."""
    bin_dir = tmp_path_factory.mktemp("bin")
    called = bin_dir / "called"
    for tool in ("aws", "docker"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{called}"\nexit 97\n')
        stub.chmod(0o755)
    return bin_dir, called


def run(tripwire, script, *args, env=None, ok=True, cwd=ROOT, stdin="", command=None):
    bin_dir, called = tripwire
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment["PATH"] = f"{bin_dir}:{environment['PATH']}"
    environment.update(env or {})
    result = subprocess.run(
        command or [str(ROOT / "scripts" / script), *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert not called.exists(), f"{script} called for real: {called.read_text()}"
    if ok:
        assert result.returncode == 0, f"{script} exited {result.returncode}:\n{result.stderr}"
    return result


def calls(result):
    """The printed calls, each split into words as the shell would."""
    return [shlex.split(line) for line in result.stdout.splitlines() if line.startswith(("aws ", "docker "))]


def commands(result):
    """The printed calls as 'aws service operation' / 'docker …' heads, in order."""
    heads = []
    for words in calls(result):
        heads.append(" ".join(words[:3]))
    return heads


def option(words, name):
    """The value(s) after --name, up to the next option."""
    index = words.index(name)
    values = []
    for word in words[index + 1 :]:
        if word.startswith("--") or word == "|":
            break
        values.append(word)
    return values if len(values) != 1 else values[0]


def find(result, head):
    (found,) = [words for words in calls(result) if " ".join(words[:3]) == head]
    return found


def private_files(result):
    """What a dry run says goes in the private files its calls read: {name: content}."""
    found = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"# (\S+) \(a file only you can read, removed afterwards\): (.*)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


# --- Step 1: ECR repository and image.


def test_push_image_first_run_creates_the_repository_and_pushes_an_arm64_image(tripwire):
    result = run(tripwire, "push-image", "--dry-run", "--region", REGION, "--account", ACCOUNT, "--tag", "t1")
    assert commands(result) == [
        "aws sts get-caller-identity",
        "aws ecr describe-repositories",
        "aws ecr create-repository",
        "aws ecr set-repository-policy",
        "aws ecr put-lifecycle-policy",
        "aws ecr describe-images",
        "aws ecr get-login-password",
        "docker buildx build",
    ]
    create = find(result, "aws ecr create-repository")
    assert option(create, "--image-tag-mutability") == "IMMUTABLE"
    assert option(create, "--image-scanning-configuration") == "scanOnPush=true"
    assert option(create, "--encryption-configuration") == "encryptionType=KMS"
    build = find(result, "docker buildx build")
    assert option(build, "--platform") == "linux/arm64"
    assert option(build, "--tag") == IMAGE
    assert "--push" in build and "--provenance=false" in build
    policy = json.loads(option(find(result, "aws ecr set-repository-policy"), "--policy-text"))
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statement["Condition"]["StringLike"]["aws:sourceArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:*"
    assert "docker login --username AWS --password-stdin" in result.stdout
    assert result.stdout.splitlines()[-1] == IMAGE
    assert all(option(words, "--region") == REGION for words in calls(result) if words[0] == "aws")


def test_push_image_again_changes_nothing_it_need_not(tripwire):
    result = run(tripwire, "push-image", "--dry-run-existing", "--region", REGION, "--account", ACCOUNT, "--tag", "t1")
    assert "aws ecr create-repository" not in commands(result)
    assert "docker buildx build" not in commands(result)
    assert "not building" in result.stderr


# --- Step 2: the collector stack.


def collector_deploy(result):
    """The deploy call and its parameters: a file (never arguments) when the webhook is among
    them, which a dry run shows above the call; inline for roll-image, which has no secret."""
    deploy = find(result, "aws cloudformation deploy")
    values = option(deploy, "--parameter-overrides")
    if isinstance(values, str) and values.startswith("file://"):
        values = json.loads(private_files(result)[values.removeprefix("file://")])
    overrides = dict(item.split("=", 1) for item in ([values] if isinstance(values, str) else values))
    return deploy, overrides


def collector(tripwire, *args, env=None, ok=True, mode="--dry-run", stdin=""):
    return run(tripwire, "deploy-collector", mode, "--region", REGION, *args, env=env, ok=ok, stdin=stdin)


def test_deploy_collector_passes_the_webhook_only_as_a_masked_noecho_parameter(tripwire):
    result = run(
        tripwire,
        "deploy-collector",
        "--dry-run",
        "--region",
        REGION,
        "--image-uri",
        IMAGE,
        "--organization-id",
        "o-abcdefghij",
        "--delivery-mode",
        "queue",
        env={"DELIBIRD_WEBHOOK_URL": WEBHOOK},
    )
    assert "SECRET-TOKEN" not in result.stdout + result.stderr
    deploy, overrides = collector_deploy(result)
    assert option(deploy, "--template-file") == "templates/collector.yaml"
    assert option(deploy, "--stack-name") == "delibird-collector"
    assert option(deploy, "--capabilities") == "CAPABILITY_IAM"
    assert option(deploy, "--parameter-overrides") == "file://parameters.json", "parameters travel in a private file"
    assert "--no-fail-on-empty-changeset" in deploy
    assert commands(result) == [
        "aws cloudformation describe-stacks",
        "aws cloudformation deploy",
        "aws cloudformation describe-stacks",
    ]
    assert overrides == {
        "ProjectCode": "delibird",
        "OrganizationId": "o-abcdefghij",
        "ImageUri": IMAGE,
        "DeliveryMode": "queue",
        "WebhookUrl": "****",
        "WebhookSecretArn": "",
    }
    parameters = load("collector.yaml")["Parameters"]
    assert set(overrides) <= set(parameters), "every override names a template parameter"
    assert parameters["WebhookUrl"]["NoEcho"] is True


# Every collector option and the template parameter it sets, with a value the template takes.
OPTIONS = {
    "--webhook-secret-key-arn": ("WebhookSecretKeyArn", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"),
    "--delivery-mode": ("DeliveryMode", "direct"),
    "--queue-batch-size": ("QueueBatchSize", "250"),
    "--queue-batching-window": ("QueueBatchingWindowSeconds", "20"),
    "--rollup": ("Rollup", "disabled"),
    "--deduplication": ("Deduplication", "enabled"),
    "--organization-feed": ("OrganizationFeed", "enabled"),
    "--reserved-concurrency": ("ReservedConcurrency", "4"),
    "--reminders": ("Reminders", "2d,30m"),
    "--digest-at": ("DigestAt", "08:30"),
    "--digest-time-zone": ("DigestTimeZone", "Europe/Berlin"),
    "--tick-schedule": ("TickSchedule", "rate(5 minutes)"),
    "--account-lookup": ("AccountLookup", "organizations"),
    "--account-lookup-role-arn": ("AccountLookupRoleArn", "arn:aws:iam::444455556666:role/lookup,arn:aws:iam::777788889999:role/lookup"),
    "--account-tags": ("AccountTags", "Owner,Team"),
    "--account-ou-path": ("AccountOuPath", "disabled"),
    "--language": ("Language", "ja_JP"),
    "--severity-critical-keywords": ("SeverityCriticalKeywords", "BREACH, RANSOM"),
    "--severity-high-keywords": ("SeverityHighKeywords", "OUTAGE"),
    "--severity-warning-keywords": ("SeverityWarningKeywords", "MAINTENANCE, NOTICE"),
    "--log-retention-days": ("LogRetentionDays", "30"),
    "--alarm-topic-arn": ("AlarmTopicArn", f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"),
}


def test_deploy_collector_every_option_sets_its_template_parameter(tripwire, tmp_path):
    aliases = tmp_path / "aliases.json"
    aliases.write_text('{\n  "111122223333": "payments-prod"\n}\n')
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:chat-AbCdEf"
    given = [word for name, (_, value) in OPTIONS.items() for word in (name, value)]
    result = collector(
        tripwire,
        "--image-uri",
        IMAGE,
        "--webhook-secret-arn",
        arn,
        "--account-aliases-file",
        str(aliases),
        "--organization-id",
        f"{ORGANIZATION},o-bcdefghijk",
        *given,
    )
    _, overrides = collector_deploy(result)
    assert overrides == {
        "ProjectCode": "delibird",
        "ImageUri": IMAGE,
        "WebhookSecretArn": arn,
        "WebhookUrl": "",
        "AccountAliases": '{"111122223333": "payments-prod"}',
        "OrganizationId": f"{ORGANIZATION},o-bcdefghijk",
        **{parameter: value for parameter, value in OPTIONS.values()},
    }
    assert set(overrides) <= set(load("collector.yaml")["Parameters"])


def test_deploy_collector_looks_the_organization_up_when_not_given(tripwire):
    result = collector(tripwire, "--image-uri", IMAGE, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
    assert "aws organizations describe-organization" in commands(result), "the organization id is looked up"
    assert collector_deploy(result)[1]["OrganizationId"] == "o-exampleorgid"


def test_deploy_collector_reads_files_from_where_it_was_started(tripwire, tmp_path):
    (tmp_path / "aliases.json").write_text('{"111122223333": "payments-prod"}')
    (tmp_path / "rules.toml").write_text(RULES)
    result = run(
        tripwire,
        "deploy-collector",
        "--dry-run",
        "--region",
        REGION,
        "--image-uri",
        IMAGE,
        "--organization-id",
        ORGANIZATION,
        "--account-aliases-file",
        "aliases.json",
        "--rules-file",
        "rules.toml",
        cwd=tmp_path,
    )
    assert option(find(result, "aws ssm put-parameter"), "--value") == f"file://{tmp_path}/rules.toml"
    assert collector_deploy(result)[1]["AccountAliases"] == '{"111122223333": "payments-prod"}'


def test_deploy_collector_refuses_to_plan_a_first_deployment_without_an_image_or_a_webhook(tripwire):
    result = collector(tripwire, "--organization-id", ORGANIZATION, ok=False)
    assert result.returncode == 2
    assert result.stdout == "", "no plan, not even its first probe"
    assert "error: no --image-uri: stack delibird-collector does not exist yet" in result.stderr
    assert "error: no webhook: stack delibird-collector does not exist yet, so it needs DELIBIRD_WEBHOOK_URL in the environment, --webhook-secret-arn, or --rules-file" in result.stderr


def test_deploy_collector_updates_an_existing_stack_without_image_or_webhook(tripwire):
    result = collector(tripwire, "--organization-id", ORGANIZATION, "--rollup", "disabled", mode="--dry-run-existing")
    _, overrides = collector_deploy(result)
    assert overrides == {"ProjectCode": "delibird", "OrganizationId": ORGANIZATION, "Rollup": "disabled"}, "the rest keep their values"


@pytest.mark.parametrize(
    "url, message",
    [
        (
            "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY",
            f"error: DELIBIRD_WEBHOOK_URL lacks the token query parameter: expected {EXPECTED_FORM}",
        ),
        (
            "https://chat.googleapis.com/v1/spaces/AAAA/messages?token=SECRET-TOKEN",
            f"error: DELIBIRD_WEBHOOK_URL lacks the key query parameter: expected {EXPECTED_FORM}",
        ),
        (
            "https://chat.googleapis.com/v1/spaces/AAAA/messages?threadKey=SECRET-TOKEN",
            f"error: DELIBIRD_WEBHOOK_URL lacks the key and token query parameters: expected {EXPECTED_FORM}",
        ),
        ("https://example.com/hook?key=k&token=SECRET-TOKEN", f"error: DELIBIRD_WEBHOOK_URL is not a Google Chat webhook URL: expected {EXPECTED_FORM}"),
        ("http://chat.googleapis.com/v1/spaces/A/messages?key=k&token=SECRET-TOKEN", "is not a Google Chat webhook URL"),
    ],
)
def test_deploy_collector_refuses_a_webhook_without_key_and_token_naming_what_is_missing(tripwire, url, message):
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, env={"DELIBIRD_WEBHOOK_URL": url}, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "SECRET-TOKEN" not in result.stdout + result.stderr
    assert "aws cloudformation deploy" not in result.stdout


def test_deploy_collector_reports_every_problem_at_once(tripwire):
    result = collector(
        tripwire,
        "--image-uri",
        "not-an-image",
        "--queue-batch-size",
        "5",
        "--digest-at",
        "25:00",
        "--delivery-mode",
        "fast",
        "--organization-id",
        "o-short",
        "--digest-time-zone",
        "Mars/Olympus_Mons",
        env={"DELIBIRD_WEBHOOK_URL": "https://chat.googleapis.com/v1/spaces/A/messages?key=k"},
        ok=False,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 7, errors
    for text in (
        "--image-uri (ImageUri): 'not-an-image' does not match",
        "--queue-batch-size (QueueBatchSize): '5' is below 10",
        "--digest-at (DigestAt): '25:00' does not match",
        "--delivery-mode (DeliveryMode): 'fast' is not one of direct, queue",
        "--organization-id (OrganizationId): 'o-short' does not match",
        "--digest-time-zone Mars/Olympus_Mons: not an IANA time zone",
        "DELIBIRD_WEBHOOK_URL lacks the token query parameter",
    ):
        assert any(text in line for line in errors), text
    assert result.stdout == ""


def test_deploy_collector_uploads_the_rules_file_as_a_string_parameter_before_the_stack(tripwire, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rules-file", str(rules))
    heads = commands(result)
    assert heads == [
        "aws cloudformation describe-stacks",
        "aws ssm get-parameter",
        "aws ssm put-parameter",
        "aws cloudformation deploy",
        "aws cloudformation describe-stacks",
    ]
    put = find(result, "aws ssm put-parameter")
    assert option(put, "--name") == "/delibird/rules"
    assert option(put, "--type") == "String", "rules name their webhooks and hold no secret"
    assert option(put, "--tier") == "Intelligent-Tiering"
    assert option(put, "--value") == f"file://{rules}"
    assert "--overwrite" in put
    _, overrides = collector_deploy(result)
    assert overrides["RulesParameterName"] == "/delibird/rules"
    assert overrides["RulesVersion"] == "rules@NEW_VERSION", "a new version changes the function's description"
    assert "WebhookUrl" not in overrides, "rules alone may name every webhook"


def test_deploy_collector_stores_the_rules_under_another_name_when_asked(tripwire, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rules-file", str(rules), "--rules-parameter", "/ops/delibird-rules")
    assert option(find(result, "aws ssm put-parameter"), "--name") == "/ops/delibird-rules"
    assert collector_deploy(result)[1]["RulesParameterName"] == "/ops/delibird-rules"


def test_deploy_collector_turns_rules_off_and_refuses_a_rules_parameter_without_rules(tripwire):
    off = collector(tripwire, "--organization-id", ORGANIZATION, "--no-rules", mode="--dry-run-existing")
    _, overrides = collector_deploy(off)
    assert (overrides["RulesParameterName"], overrides["RulesVersion"]) == ("", "")
    assert "aws ssm put-parameter" not in commands(off)
    alone = collector(tripwire, "--organization-id", ORGANIZATION, "--rules-parameter", "/x/rules", mode="--dry-run-existing", ok=False)
    assert "error: --rules-parameter /x/rules: give the rules to store there with --rules-file" in alone.stderr
    long = collector(tripwire, "--organization-id", ORGANIZATION, "--rules-file", "/dev/null", "--rules-parameter", "/" + "r" * 100, mode="--dry-run-existing", ok=False)
    assert f"error: --rules-parameter (RulesParameterName): '/{'r' * 100}' is longer than 100 characters" in long.stderr


def test_deploy_collector_records_many_webhook_versions_within_the_description(tripwire, tmp_path):
    names = [f"space-number-{n}" for n in range(12)]
    env = {f"DELIBIRD_RULE_WEBHOOK_SPACE_NUMBER_{n}": ONCALL for n in range(12)}
    args = [word for name in names for word in ("--rule-webhook", name)]
    result = collector(tripwire, "--organization-id", ORGANIZATION, *args, env=env, mode="--dry-run-existing")
    recorded = collector_deploy(result)[1]["RulesVersion"]
    assert len(recorded) <= 120
    assert re.fullmatch(r"space-number-0@NEW_VERSION digest:[0-9a-f]{12}", recorded), recorded
    assert re.fullmatch(load("collector.yaml")["Parameters"]["RulesVersion"]["AllowedPattern"], recorded)


def test_deploy_collector_refuses_rules_that_hold_a_url_or_name_an_unreadable_webhook(tripwire, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES.replace('"ssm:/delibird/webhooks/oncall"', '"https://chat.googleapis.com/v1/spaces/C/messages?key=k&token=RULES-TOKEN"'))
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rules-file", str(rules), ok=False)
    assert result.returncode == 2
    assert f"error: --rules-file {rules}: line 6 holds a URL" in result.stderr
    assert "RULES-TOKEN" not in result.stdout + result.stderr
    rules.write_text(RULES.replace("ssm:/delibird/webhooks/oncall", "ssm:/elsewhere/oncall"))
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rules-file", str(rules), ok=False)
    assert result.returncode == 2
    assert "webhook oncall is kept where the function may not read it: use ssm:/delibird/webhooks/oncall" in result.stderr
    assert result.stdout == ""


def test_deploy_collector_stores_rule_webhooks_encrypted_with_the_stack_key(tripwire, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    args = ("--organization-id", ORGANIZATION, "--rules-file", str(rules), "--rule-webhook", "oncall", "--rule-webhook", "platform")
    env = {"DELIBIRD_RULE_WEBHOOK_ONCALL": ONCALL}
    # First deployment: the stack makes the key, so the webhooks follow the stack.
    first = collector(tripwire, "--image-uri", IMAGE, *args, env=env, stdin=WEBHOOK + "\n")
    heads = commands(first)
    assert heads == [
        "aws cloudformation describe-stacks",
        "aws ssm get-parameter",
        "aws ssm put-parameter",
        "aws kms describe-key",
        "aws cloudformation deploy",
        "aws ssm put-parameter",
        "aws ssm put-parameter",
        "aws cloudformation describe-stacks",
    ]
    puts = [words for words in calls(first) if words[:3] == ["aws", "ssm", "put-parameter"]][1:]
    for name, put in zip(("oncall", "platform"), puts):
        assert option(put, "--name") == f"/delibird/webhooks/{name}"
        assert option(put, "--type") == "SecureString"
        assert option(put, "--key-id") == "alias/delibird"
        assert option(put, "--value") == f"file://webhook-{name}"
    assert private_files(first)["webhook-oncall"] == "****" and private_files(first)["webhook-platform"] == "****"
    # An existing stack: its key exists, the webhooks are stored first and their versions recorded.
    existing = collector(tripwire, *args, env=env, stdin=WEBHOOK + "\n", mode="--dry-run-existing")
    heads = commands(existing)
    assert heads.index("aws kms describe-key") < heads.index("aws cloudformation deploy")
    assert heads.count("aws ssm put-parameter") == 3 and heads[-2] == "aws cloudformation deploy"
    assert collector_deploy(existing)[1]["RulesVersion"] == "rules@NEW_VERSION oncall@NEW_VERSION platform@NEW_VERSION"
    for result in (first, existing):
        assert "ONCALL-TOKEN" not in result.stdout + result.stderr and "SECRET-TOKEN" not in result.stdout + result.stderr


def test_deploy_collector_refuses_a_rule_webhook_without_a_url_or_with_a_bad_one(tripwire):
    result = collector(tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rule-webhook", "oncall", "--rule-webhook", "bad/name", ok=False)
    assert "error: --rule-webhook oncall: no URL (set DELIBIRD_RULE_WEBHOOK_ONCALL, or give it on stdin)" in result.stderr
    assert "error: --rule-webhook bad/name: a name of letters, digits" in result.stderr
    result = collector(
        tripwire, "--image-uri", IMAGE, "--organization-id", ORGANIZATION, "--rule-webhook", "on-call.team",
        env={"DELIBIRD_RULE_WEBHOOK_ON_CALL_TEAM": "https://chat.googleapis.com/v1/spaces/B/messages?token=ONCALL-TOKEN"}, ok=False,
    )
    assert f"error: the webhook for --rule-webhook on-call.team lacks the key query parameter: expected {EXPECTED_FORM}" in result.stderr
    assert "ONCALL-TOKEN" not in result.stdout + result.stderr


def test_deploy_collector_check_only_validates_and_prints_nothing(tripwire):
    good = collector(tripwire, "--check-only", "--image-uri", IMAGE, "--organization-id", ORGANIZATION, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
    assert good.stdout == "" and good.returncode == 0
    bad = collector(tripwire, "--check-only", "--image-uri", IMAGE, "--queue-batch-size", "2000", ok=False, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
    assert bad.returncode == 2 and "--queue-batch-size (QueueBatchSize): '2000' is above 1000" in bad.stderr


def test_check_parameters_knows_the_template_constraints():
    items = ["QueueBatchSize=5", "Rollup=maybe", "WebhookUrl=http://x?token=SECRET-TOKEN", "Nope=1", "LogRetentionDays=90", "Language=ja_JP"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/lib/check_parameters.py"), "templates/collector.yaml"],
        cwd=ROOT,
        input="\0".join(items) + "\0",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "QueueBatchSize\t'5' is below 10",
        "Rollup\t'maybe' is not one of enabled, disabled",
        "WebhookUrl\tthe value does not match " + load("collector.yaml")["Parameters"]["WebhookUrl"]["AllowedPattern"],
        "Nope\tnot a parameter of templates/collector.yaml",
    ], "a NoEcho value is never repeated"


# --- Step 3: the forwarder StackSet.


def forwarders(tripwire, mode, *extra):
    return run(
        tripwire,
        "deploy-forwarders",
        mode,
        "--region",
        REGION,
        "--collector-bus-arn",
        BUS,
        "--organizational-units",
        "ou-ab12-cdef3456,ou-ab12-7890ghij",
        "--regions",
        "us-east-1,eu-west-1",
        *extra,
    )


def test_deploy_forwarders_first_run_creates_a_service_managed_stack_set_with_auto_deployment(tripwire):
    result = forwarders(tripwire, "--dry-run")
    assert commands(result) == [
        "aws cloudformation describe-stack-set",
        "aws cloudformation create-stack-set",
        "aws cloudformation create-stack-instances",
        "aws cloudformation describe-stack-set-operation",
        "aws cloudformation list-stack-instances",
    ]
    create = find(result, "aws cloudformation create-stack-set")
    assert option(create, "--template-body") == "file://templates/forwarder.yaml"
    assert option(create, "--permission-model") == "SERVICE_MANAGED"
    assert option(create, "--auto-deployment") == "Enabled=true,RetainStacksOnAccountRemoval=false"
    assert option(create, "--capabilities") == "CAPABILITY_IAM"
    parameters = dict(p.removeprefix("ParameterKey=").split(",ParameterValue=") for p in option(create, "--parameters"))
    assert parameters == {"ProjectCode": "delibird", "CollectorEventBusArn": BUS}
    assert set(parameters) == set(load("forwarder.yaml")["Parameters"])
    instances = find(result, "aws cloudformation create-stack-instances")
    assert option(instances, "--deployment-targets") == "OrganizationalUnitIds=ou-ab12-cdef3456,ou-ab12-7890ghij"
    assert option(instances, "--regions") == ["us-east-1", "eu-west-1"]
    assert all(option(words, "--call-as") == "SELF" for words in calls(result))


def test_deploy_forwarders_again_updates_then_adds_missing_instances(tripwire):
    result = forwarders(tripwire, "--dry-run-existing", "--call-as", "DELEGATED_ADMIN")
    heads = commands(result)
    assert "aws cloudformation create-stack-set" not in heads
    assert heads.index("aws cloudformation update-stack-set") < heads.index("aws cloudformation create-stack-instances")
    assert all(option(words, "--call-as") == "DELEGATED_ADMIN" for words in calls(result))


def test_deploy_forwarders_reports_every_bad_option_before_any_call(tripwire):
    result = run(
        tripwire, "deploy-forwarders", "--dry-run", "--region", REGION, "--collector-bus-arn", "arn:aws:sns:x", "--regions", "us-east-1,mars-1",
        "--call-as", "ME", ok=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: --collector-bus-arn (CollectorEventBusArn): 'arn:aws:sns:x' does not match ^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$",
        "error: --organizational-units is required (OU ids, or the root id r-…)",
        "error: --regions us-east-1,mars-1: comma-separated Region names (us-east-1,eu-west-1)",
        "error: --call-as is SELF or DELEGATED_ADMIN",
    ]


def test_deploy_forwarders_warns_without_us_east_1(tripwire):
    result = run(
        tripwire,
        "deploy-forwarders",
        "--dry-run",
        "--region",
        REGION,
        "--collector-bus-arn",
        BUS,
        "--organizational-units",
        "r-ab12",
        "--regions",
        "eu-west-1",
    )
    assert "lacks us-east-1" in result.stderr


# --- All three, and day two.


DEPLOY_ARGS = (
    "--region",
    REGION,
    "--account",
    ACCOUNT,
    "--tag",
    "t1",
    "--organization-id",
    ORGANIZATION,
    "--organizational-units",
    "r-ab12",
    "--regions",
    "us-east-1,eu-west-1",
)


def test_deploy_dry_run_into_a_file_holds_all_three_steps(tripwire, tmp_path):
    bin_dir, _ = tripwire
    plan = tmp_path / "plan.txt"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment.update(PATH=f"{bin_dir}:{environment['PATH']}", DELIBIRD_WEBHOOK_URL=WEBHOOK)
    with plan.open("w") as out:
        result = subprocess.run(
            [str(ROOT / "scripts/deploy"), "--dry-run", *DEPLOY_ARGS], cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    heads = [" ".join(shlex.split(line)[:3]) for line in plan.read_text().splitlines() if line.startswith(("aws ", "docker "))]
    assert heads == [
        "aws sts get-caller-identity",
        "aws ecr describe-repositories",
        "aws ecr create-repository",
        "aws ecr set-repository-policy",
        "aws ecr put-lifecycle-policy",
        "aws ecr describe-images",
        "aws ecr get-login-password",
        "docker buildx build",
        "aws cloudformation describe-stacks",
        "aws cloudformation deploy",
        "aws cloudformation describe-stacks",
        "aws cloudformation describe-stack-set",
        "aws cloudformation create-stack-set",
        "aws cloudformation create-stack-instances",
        "aws cloudformation describe-stack-set-operation",
        "aws cloudformation list-stack-instances",
    ], "the file holds the image, the collector and the StackSet steps"
    assert IMAGE in plan.read_text().splitlines()
    assert "SECRET-TOKEN" not in plan.read_text() + result.stderr


@pytest.mark.parametrize(
    "drop, env, message",
    [
        ("--organizational-units", {"DELIBIRD_WEBHOOK_URL": WEBHOOK}, "error: --organizational-units is required"),
        (None, {"DELIBIRD_WEBHOOK_URL": "https://hooks.example.com/services/SECRET-TOKEN"}, "error: DELIBIRD_WEBHOOK_URL is not a Google Chat webhook URL"),
        (None, {}, "error: no webhook: stack delibird-collector does not exist yet"),
        ("--tag", {"DELIBIRD_WEBHOOK_URL": WEBHOOK, "GIT_DIR": "/nonexistent"}, "error: uncommitted changes: commit them, or pass --tag"),
    ],
)
def test_deploy_checks_every_step_before_step_1(tripwire, drop, env, message):
    args = list(DEPLOY_ARGS)
    if drop:
        index = args.index(drop)
        del args[index : index + 2]
    result = run(tripwire, "deploy", "--dry-run", *args, env=env, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "error: nothing was deployed: fix the problems above first" in result.stderr
    assert result.stdout == "", "not one call of step 1 is planned"
    assert "== 1/3" not in result.stderr and "SECRET-TOKEN" not in result.stderr


def test_deploy_passes_the_collector_options_through(tripwire, tmp_path):
    (tmp_path / "aliases.json").write_text('{"111122223333": "payments-prod"}')
    (tmp_path / "rules.toml").write_text(RULES)
    given = [word for name, (_, value) in OPTIONS.items() for word in (name, value)]
    result = run(
        tripwire,
        "deploy",
        env={"DELIBIRD_WEBHOOK_URL": WEBHOOK},
        stdin=ONCALL + "\n",
        cwd=tmp_path,
        command=[str(ROOT / "scripts/deploy"), "--dry-run", *DEPLOY_ARGS, "--account-aliases-file", "aliases.json", "--rules-file", "rules.toml", "--rule-webhook", "oncall", *given],
    )
    _, overrides = collector_deploy(result)
    for parameter, value in OPTIONS.values():
        assert overrides[parameter] == value, parameter
    assert overrides["AccountAliases"] == '{"111122223333": "payments-prod"}'
    assert overrides["RulesParameterName"] == "/delibird/rules"
    rules_put = [words for words in calls(result) if words[:3] == ["aws", "ssm", "put-parameter"]][0]
    assert option(rules_put, "--value") == f"file://{tmp_path}/rules.toml"
    assert "webhook-oncall" in private_files(result), "the rule webhook read from stdin reached step 2"
    assert "ONCALL-TOKEN" not in result.stdout + result.stderr


def test_deploy_profile_is_both_accounts_profile(tripwire):
    result = run(tripwire, "deploy", "--dry-run", *DEPLOY_ARGS, "--profile", "admin", env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
    assert all(option(words, "--profile") == "admin" for words in calls(result) if words[0] == "aws")


def test_deploy_runs_the_three_steps_in_order_and_passes_their_results_on(tripwire):
    result = run(
        tripwire,
        "deploy",
        "--dry-run",
        "--region",
        REGION,
        "--account",
        ACCOUNT,
        "--tag",
        "t1",
        "--collector-profile",
        "collector",
        "--management-profile",
        "management",
        "--organization-id",
        "o-abcdefghij",
        "--organizational-units",
        "r-ab12",
        "--regions",
        "us-east-1,eu-west-1",
        env={"DELIBIRD_WEBHOOK_URL": WEBHOOK},
    )
    heads = commands(result)
    order = ["aws ecr create-repository", "docker buildx build", "aws cloudformation deploy", "aws cloudformation create-stack-set"]
    assert [heads.index(head) for head in order] == sorted(heads.index(head) for head in order)
    _, overrides = collector_deploy(result)
    assert overrides["ImageUri"] == IMAGE
    create = find(result, "aws cloudformation create-stack-set")
    assert f"ParameterKey=CollectorEventBusArn,ParameterValue={BUS}" in option(create, "--parameters")
    assert option(create, "--profile") == "management"
    assert option(find(result, "aws cloudformation create-stack-instances"), "--profile") == "management"
    assert option(find(result, "aws ecr create-repository"), "--profile") == "collector"
    assert option(find(result, "aws cloudformation deploy"), "--profile") == "collector"
    assert "SECRET-TOKEN" not in result.stdout + result.stderr


def test_roll_image_updates_only_the_image_and_shows_the_digest_running(tripwire):
    result = run(tripwire, "roll-image", "--dry-run-existing", "--region", REGION, "--account", ACCOUNT, "--tag", "t2")
    heads = commands(result)
    assert "docker buildx build" not in heads, "the tag is in the repository already"
    deploy, overrides = collector_deploy(result)
    assert overrides == {"ImageUri": IMAGE.replace(":t1", ":t2")}, "every other parameter keeps its value"
    assert option(deploy, "--template-file") == "templates/collector.yaml"
    assert heads[-1] == "aws lambda get-function"


@pytest.fixture
def checkout(tmp_path):
    """A committed copy of the deployment files: a checkout whose commit the test knows."""
    copy = tmp_path / "checkout"
    for part in ("scripts", "templates"):
        shutil.copytree(ROOT / part, copy / part)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-C", str(copy)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "checkout"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short=12", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return copy, head


def test_roll_image_pushes_a_tag_the_repository_lacks_when_it_is_this_commit(tripwire, checkout):
    copy, head = checkout
    result = run(tripwire, "roll-image", command=[str(copy / "scripts/roll-image"), "--dry-run", "--region", REGION, "--account", ACCOUNT, "--tag", head])
    heads = commands(result)
    assert heads.index("docker buildx build") < heads.index("aws cloudformation deploy")
    assert option(find(result, "docker buildx build"), "--tag") == IMAGE.replace(":t1", f":{head}")


def test_roll_image_never_builds_this_checkout_under_another_commits_tag(tripwire, checkout):
    copy, head = checkout
    for tag in ("0123456789ab", "v1.2"):
        result = run(tripwire, "roll-image", command=[str(copy / "scripts/roll-image"), "--dry-run", "--region", REGION, "--account", ACCOUNT, "--tag", tag], ok=False)
        assert result.returncode == 2
        assert f"error: the repository delibird has no image {tag}, and this checkout ({head}) is not it" in result.stderr
        assert "docker buildx build" not in commands(result) and "aws cloudformation deploy" not in commands(result)
    (copy / "templates/collector.yaml").write_text((copy / "templates/collector.yaml").read_text() + "\n# changed\n")
    result = run(tripwire, "roll-image", command=[str(copy / "scripts/roll-image"), "--dry-run", "--region", REGION, "--account", ACCOUNT, "--tag", head], ok=False)
    assert f"this checkout ({head}, with uncommitted changes) is not it" in result.stderr, "uncommitted changes are not the commit"


def test_push_image_refuses_a_commit_tag_that_is_not_this_commit(tripwire, checkout):
    copy, head = checkout
    result = run(tripwire, "push-image", command=[str(copy / "scripts/push-image"), "--dry-run", "--region", REGION, "--tag", "0123456789ab"], ok=False)
    assert result.returncode == 2 and result.stdout == ""
    assert f"error: --tag 0123456789ab names a commit, but this checkout is {head}" in result.stderr
    default = run(tripwire, "push-image", command=[str(copy / "scripts/push-image"), "--dry-run", "--region", REGION, "--account", ACCOUNT])
    assert default.stdout.splitlines()[-1] == IMAGE.replace(":t1", f":{head}"), "the default tag is the commit"


@pytest.mark.parametrize("region, partition, suffix", [("cn-north-1", "aws-cn", "amazonaws.com.cn"), ("us-gov-west-1", "aws-us-gov", "amazonaws.com")])
def test_push_image_names_the_partition_and_its_registry(tripwire, region, partition, suffix):
    result = run(tripwire, "push-image", "--dry-run", "--region", region, "--account", ACCOUNT, "--tag", "t1")
    assert result.stdout.splitlines()[-1] == f"{ACCOUNT}.dkr.ecr.{region}.{suffix}/delibird:t1"
    policy = json.loads(option(find(result, "aws ecr set-repository-policy"), "--policy-text"))
    assert policy["Statement"][0]["Condition"]["StringLike"]["aws:sourceArn"] == f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:*"


def test_send_test_event_puts_a_custom_health_event_delibird_renders_cleanly(tripwire, tmp_path):
    result = run(tripwire, "send-test-event", "--dry-run", "--region", REGION, "--account", ACCOUNT)
    put = find(result, "aws events put-events")
    (entry,) = json.loads(option(put, "--entries"))
    assert entry["Source"] == "custom.health", "the collector's rule takes custom.health from its own account"
    assert entry["DetailType"] == "AWS Health Event"
    assert entry["EventBusName"] == "delibird-collector"
    detail = json.loads(entry["Detail"])
    assert detail["eventRegion"] == REGION and detail["affectedAccount"] == ACCOUNT
    # What the function receives: the EventBridge event the rule matched.
    event = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": ACCOUNT,
        "time": "2026-01-27T09:01:22Z",
        "region": REGION,
        "resources": entry["Resources"],
        "detail": detail,
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    cli = os.environ.get("DELIBIRD_CLI", str(ROOT / "target/debug/delibird"))
    if not pathlib.Path(cli).exists():
        pytest.fail(f"{cli} is missing: build it (cargo build --bin delibird) or set DELIBIRD_CLI")
    rendered = subprocess.run([cli, "render", str(path)], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, f"the test event does not validate:\n{rendered.stderr}"
    body = json.loads(rendered.stdout.splitlines()[0])
    assert "delibird deployment test" in json.dumps(body)


SCRIPTS = ["push-image", "deploy-collector", "deploy-forwarders", "deploy", "roll-image", "send-test-event"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_command_explains_itself_and_refuses_unknown_options(tripwire, script):
    help_text = run(tripwire, script, "--help").stdout
    assert "--dry-run" in help_text and re.search("idempotent|a new event", help_text, re.I), help_text
    wrong = run(tripwire, script, "--dry-run", "--region", REGION, "--no-such-option", "x", ok=False)
    assert wrong.returncode == 2 and "unknown option --no-such-option" in wrong.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_works_from_any_directory(tripwire, script, tmp_path):
    from_scripts = run(tripwire, script, command=[f"./{script}", "--help"], cwd=ROOT / "scripts")
    elsewhere = run(tripwire, script, command=[str(ROOT / "scripts" / script), "--help"], cwd=tmp_path)
    assert from_scripts.stdout == elsewhere.stdout == run(tripwire, script, "--help").stdout
    assert from_scripts.stdout.startswith(("Step ", "The whole deployment", "Day two")), from_scripts.stdout[:80]


def test_a_command_without_a_region_says_so(tripwire):
    result = run(tripwire, "push-image", "--dry-run", "--tag", "t1", ok=False)
    assert result.returncode == 2 and "no Region" in result.stderr


# --- For real, against a stand-in AWS CLI: no process's arguments ever hold a webhook.

# Programs the deployment commands start besides aws and docker; each is wrapped to record its
# arguments before it runs the real one.
PROGRAMS = ["python3", "git", "sed", "tr", "grep", "wc", "cat", "mktemp", "rm", "tail", "head", "cut", "sha256sum", "dirname", "basename", "date", "hostname", "sleep", "env"]

STAND_IN = r'''#!{python}
"""A stand-in AWS CLI: records its arguments, environment and the files file:// arguments name,
and answers as a real account would (STATE: first, nothing exists; existing, everything does)."""
import json, os, stat, sys
args = sys.argv[1:]
record = {{"argv": [sys.argv[0].rsplit("/", 1)[-1], *args], "env": dict(os.environ), "files": {{}}}}
for arg in args:
    if arg.startswith("file://"):
        path = arg[len("file://"):]
        record["files"][path] = {{
            "content": open(path).read(),
            "mode": stat.S_IMODE(os.stat(path).st_mode),
            "directory_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
        }}
with open("{log}", "a") as log:
    log.write(json.dumps(record) + "\n")
state = open("{state}").read().strip()
head = " ".join(a for a in args[:2])
query = args[args.index("--query") + 1] if "--query" in args else ""
def missing():
    sys.stderr.write("An error occurred (ResourceNotFound): it does not exist\n")
    sys.exit(254)
if record["argv"][0] == "docker":
    sys.stdin.read()
elif head == "sts get-caller-identity":
    print("{account}")
elif head == "organizations describe-organization":
    print("{organization}")
elif head == "cloudformation describe-stacks":
    if "StackStatus" in query:
        missing() if state == "first" else print("UPDATE_COMPLETE")
    elif "EventBusArn" in query:
        print("{bus}")
    else:
        print("EventBusArn\t{bus}")
elif head in ("ssm get-parameter", "cloudformation describe-stack-set", "ecr describe-images") and state == "first":
    missing()
elif head == "kms describe-key":
    missing() if state == "first" else print("Enabled")
elif head == "ssm put-parameter":
    print("7")
elif head in ("cloudformation create-stack-instances", "cloudformation update-stack-set"):
    print("operation-1")
elif head == "cloudformation describe-stack-set-operation":
    print("SUCCEEDED")
elif head == "ecr get-login-password":
    print("registry-password")
'''


@pytest.fixture
def recorder(tmp_path):
    """A PATH on which aws and docker are answering stand-ins and every other program the
    commands start is recorded; returns (environment, state file, calls())."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log, programs, state = tmp_path / "aws.jsonl", tmp_path / "programs", tmp_path / "state"
    state.write_text("first")
    programs.mkdir()
    stand_in = STAND_IN.format(python=sys.executable, log=log, state=state, account=ACCOUNT, organization=ORGANIZATION, bus=BUS)
    for tool in ("aws", "docker"):
        (bin_dir / tool).write_text(stand_in)
        (bin_dir / tool).chmod(0o755)
    for program in PROGRAMS:
        real = shutil.which(program)
        assert real, program
        # Each call's arguments, NUL-separated, in a file of its own (named by the shell's pid
        # and a counter, without starting any program).
        (bin_dir / program).write_text(
            f'#!/bin/sh\nn=0\nwhile [ -e "{programs}/$$.$n" ]; do n=$((n + 1)); done\n'
            f'printf "%s\\0" "{program}" "$@" > "{programs}/$$.$n"\nexec "{real}" "$@"\n'
        )
        (bin_dir / program).chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment["PATH"] = f"{bin_dir}:{environment['PATH']}"

    def recorded():
        aws_calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        others = [path.read_bytes().decode().split("\0")[:-1] for path in sorted(programs.iterdir())]
        return aws_calls, others

    return environment, state, recorded


def run_for_real(environment, script, *args, env=None, stdin="", cwd=ROOT):
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args], cwd=cwd, env={**environment, **(env or {})}, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result


def tokens_in(words):
    return [word for word in words if any(token in word for token in ("SECRET-TOKEN", "ONCALL-TOKEN", "KEY&token"))]


@pytest.mark.parametrize("state", ["first", "existing"])
def test_deploy_collector_for_real_puts_no_webhook_in_any_process_arguments(recorder, tmp_path, state):
    environment, state_file, recorded = recorder
    state_file.write_text(state)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    args = ["--region", REGION, "--image-uri", IMAGE, "--rules-file", str(rules), "--rule-webhook", "oncall", "--rule-webhook", "platform"]
    result = run_for_real(
        environment, "deploy-collector", *args, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK, "DELIBIRD_RULE_WEBHOOK_ONCALL": ONCALL}, stdin=WEBHOOK.replace("AAAA", "PPPP") + "\n"
    )
    aws_calls, others = recorded()
    heads = [" ".join(c["argv"][1:3]) for c in aws_calls]
    assert heads[:3] == ["cloudformation describe-stacks", "organizations describe-organization", "ssm get-parameter"]
    assert heads.count("ssm put-parameter") == 3 and "cloudformation deploy" in heads
    for call in aws_calls:
        assert not tokens_in(call["argv"]), call["argv"]
        assert not [k for k, v in call["env"].items() if "token=" in v], "no webhook in any aws call's environment"
    for words in others:
        assert not tokens_in(words), words
    assert any(words[0] == "python3" for words in others), "the program recorder saw the commands' own programs"
    # The parameters, and each webhook, went through a file only this user could read, gone now.
    (deploy,) = [c for c in aws_calls if c["argv"][1:3] == ["cloudformation", "deploy"]]
    ((path, parameters),) = deploy["files"].items()
    assert (parameters["mode"], parameters["directory_mode"]) == (0o600, 0o700)
    assert f"WebhookUrl={WEBHOOK}" in json.loads(parameters["content"])
    assert json.loads(parameters["content"])[:2] == ["ProjectCode=delibird", f"ImageUri={IMAGE}"]
    assert not pathlib.Path(path).exists() and not pathlib.Path(path).parent.exists(), "removed afterwards"
    stored = {c["argv"][c["argv"].index("--name") + 1]: c for c in aws_calls if c["argv"][1:3] == ["ssm", "put-parameter"]}
    assert set(stored) == {"/delibird/rules", "/delibird/webhooks/oncall", "/delibird/webhooks/platform"}
    oncall, platform = stored["/delibird/webhooks/oncall"], stored["/delibird/webhooks/platform"]
    assert [f["content"] for f in oncall["files"].values()] == [ONCALL]
    assert [f["content"] for f in platform["files"].values()] == [WEBHOOK.replace("AAAA", "PPPP")], "read from stdin"
    assert all(f["mode"] == 0o600 for f in oncall["files"].values())
    if state == "existing":
        assert heads.index("ssm put-parameter") < heads.index("cloudformation deploy")
        assert "RulesVersion=rules@7 oncall@7 platform@7" in json.loads(parameters["content"])
    else:
        assert [h for h in heads if h in ("cloudformation deploy", "ssm put-parameter")] == [
            "ssm put-parameter",
            "cloudformation deploy",
            "ssm put-parameter",
            "ssm put-parameter",
        ], "on a first deployment the webhooks follow the stack that makes their key"
    assert "SECRET-TOKEN" not in result.stdout + result.stderr


def test_deploy_collector_dry_run_with_the_stand_in_calls_nothing_and_shows_no_token(recorder):
    environment, _, recorded = recorder
    result = run_for_real(environment, "deploy-collector", "--dry-run", "--region", REGION, "--image-uri", IMAGE, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
    aws_calls, others = recorded()
    assert aws_calls == []
    for words in others:
        assert not tokens_in(words), words
    assert "SECRET-TOKEN" not in result.stdout + result.stderr
    real = json.loads(private_files(result)["parameters.json"].replace("****", WEBHOOK))
    assert real == ["ProjectCode=delibird", f"ImageUri={IMAGE}", f"WebhookUrl={WEBHOOK}", "WebhookSecretArn=", "OrganizationId=o-exampleorgid"]


def test_deploy_for_real_puts_no_webhook_in_any_process_arguments(recorder):
    environment, _, recorded = recorder
    result = run_for_real(environment, "deploy", *DEPLOY_ARGS, "--rule-webhook", "oncall", env={"DELIBIRD_WEBHOOK_URL": WEBHOOK}, stdin=ONCALL + "\n")
    aws_calls, others = recorded()
    heads = [" ".join(c["argv"][:3]) for c in aws_calls]
    assert "docker buildx build" in heads and "aws cloudformation deploy" in heads and "aws cloudformation create-stack-set" in heads
    for call in aws_calls:
        assert not tokens_in(call["argv"]), call["argv"]
        if call["argv"][1:3] != ["cloudformation", "deploy"] and call["argv"][1:3] != ["ssm", "put-parameter"]:
            assert not call["files"] or not [f for f in call["files"].values() if "token=" in f["content"]]
        assert not [k for k, v in call["env"].items() if "token=" in v], (call["argv"][:3], "environment")
    for words in others:
        assert not tokens_in(words), words
    assert "SECRET-TOKEN" not in result.stdout + result.stderr and "ONCALL-TOKEN" not in result.stdout + result.stderr
