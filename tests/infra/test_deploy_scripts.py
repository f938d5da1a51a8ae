"""The deployment commands' dry runs: the AWS CLI (and docker) calls each would make, in order,
for a first deployment (--dry-run) and for one that exists (--dry-run-existing). `aws` and
`docker` on PATH are stand-ins that fail the test if anything calls them. Run by
scripts/check-infra (pytest)."""

import json
import os
import pathlib
import re
import shlex
import subprocess

import pytest

from cfn import ROOT, load

REGION = "eu-west-1"
ACCOUNT = "111122223333"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/delibird:t1"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/delibird-collector"
WEBHOOK = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY&token=SECRET-TOKEN"


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


def run(tripwire, script, *args, env=None, ok=True):
    bin_dir, called = tripwire
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment["PATH"] = f"{bin_dir}:{environment['PATH']}"
    environment.update(env or {})
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
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
    deploy = find(result, "aws cloudformation deploy")
    values = option(deploy, "--parameter-overrides")
    overrides = dict(item.split("=", 1) for item in ([values] if isinstance(values, str) else values))
    return deploy, overrides


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
    assert "--no-fail-on-empty-changeset" in deploy
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


def test_deploy_collector_every_option_names_a_template_parameter(tripwire, tmp_path):
    aliases = tmp_path / "aliases.json"
    aliases.write_text('{"111122223333": "payments-prod"}\n')
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:chat-AbCdEf"
    result = run(
        tripwire,
        "deploy-collector",
        "--dry-run",
        "--region",
        REGION,
        "--webhook-secret-arn",
        arn,
        "--webhook-secret-key-arn",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
        "--deduplication",
        "disabled",
        "--organization-feed",
        "enabled",
        "--reserved-concurrency",
        "4",
        "--account-aliases-file",
        str(aliases),
        "--account-lookup",
        "organizations",
        "--account-lookup-role-arn",
        "arn:aws:iam::444455556666:role/lookup",
        "--log-retention-days",
        "30",
        "--alarm-topic-arn",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms",
    )
    _, overrides = collector_deploy(result)
    parameters = load("collector.yaml")["Parameters"]
    assert set(overrides) <= set(parameters)
    assert overrides["WebhookSecretArn"] == arn and overrides["WebhookUrl"] == ""
    assert overrides["AccountAliases"] == '{"111122223333": "payments-prod"}'
    assert "aws organizations describe-organization" in commands(result), "the organization id is looked up"


def test_deploy_collector_refuses_a_webhook_that_is_not_google_chat(tripwire):
    result = run(
        tripwire,
        "deploy-collector",
        "--dry-run",
        "--region",
        REGION,
        env={"DELIBIRD_WEBHOOK_URL": "https://example.com/hook?token=SECRET-TOKEN"},
        ok=False,
    )
    assert result.returncode == 2
    assert "SECRET-TOKEN" not in result.stdout + result.stderr


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


def test_roll_image_pushes_a_tag_the_repository_lacks(tripwire):
    result = run(tripwire, "roll-image", "--dry-run", "--region", REGION, "--account", ACCOUNT, "--tag", "t2")
    heads = commands(result)
    assert heads.index("docker buildx build") < heads.index("aws cloudformation deploy")


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


@pytest.mark.parametrize("script", ["push-image", "deploy-collector", "deploy-forwarders", "deploy", "roll-image", "send-test-event"])
def test_every_command_explains_itself_and_refuses_unknown_options(tripwire, script):
    help_text = run(tripwire, script, "--help").stdout
    assert "--dry-run" in help_text and re.search("idempotent|a new event", help_text, re.I), help_text
    wrong = run(tripwire, script, "--dry-run", "--region", REGION, "--no-such-option", "x", ok=False)
    assert wrong.returncode == 2 and "unknown option --no-such-option" in wrong.stderr


def test_a_command_without_a_region_says_so(tripwire):
    result = run(tripwire, "push-image", "--dry-run", "--tag", "t1", ok=False)
    assert result.returncode == 2 and "no Region" in result.stderr
