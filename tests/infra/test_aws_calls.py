"""The deployment commands' AWS calls against the real AWS CLI: every call any dry run prints is
one the CLI accepts (option names, shorthand syntax, types — checked against the CLI's service
models, then stopped at an endpoint that does not answer), and the commands that moto emulates
run for real against it, twice, to show they converge. Run by scripts/check-infra (pytest)."""

import atexit
import json
import os
import pathlib
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from cfn import ROOT
from test_deploy_scripts import ACCOUNT, BUS, IMAGE, ONCALL, OPTIONS, ORGANIZATION, REGION, RULES, WEBHOOK

AWS_BIN = pathlib.Path(sys.executable).parent
DEAD_ENDPOINT = "http://127.0.0.1:9"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1"}


def clean_environment(**extra):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment.update(CREDENTIALS)
    environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    environment.update(extra)
    return environment


# The files the printed calls read (file://NAME, shown above the call by a dry run) are written
# here, their secrets a real-looking webhook, so the CLI reads them as it would for real.
FILES = pathlib.Path(tempfile.mkdtemp(prefix="delibird-cli-files-"))
atexit.register(shutil.rmtree, FILES, ignore_errors=True)
(FILES / "rules.toml").write_text(RULES)


def dry_run(script, *args, env=None, stdin=""):
    environment = clean_environment(**(env or {}))
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args], cwd=ROOT, env=environment, input=stdin, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = []
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"# (\S+) \(a file only you can read, removed afterwards\): (.*)", line)
        if match:
            (FILES / match.group(1)).write_text(match.group(2).replace("****", "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"))
        elif line.startswith("aws "):
            lines.append(re.sub(r"file://([\w.-]+)( |$)", lambda m: f"file://{FILES / m.group(1)}{m.group(2)}", line.split(" | ")[0]))
    return lines


def every_printed_call():
    base = ("--region", REGION, "--account", ACCOUNT)
    forwarders = ("--collector-bus-arn", BUS, "--organizational-units", "ou-ab12-cdef3456", "--regions", "us-east-1,eu-west-1")
    every_option = [word for name, (_, value) in OPTIONS.items() for word in (name, value)]
    lines = []
    for mode in ("--dry-run", "--dry-run-existing"):
        lines += dry_run("push-image", mode, *base, "--tag", "t1")
        lines += dry_run(
            "deploy-collector",
            mode,
            "--region",
            REGION,
            "--image-uri",
            IMAGE,
            "--organization-id",
            ORGANIZATION,
            "--rules-file",
            str(FILES / "rules.toml"),
            "--rule-webhook",
            "oncall",
            *every_option,
            env={"DELIBIRD_WEBHOOK_URL": WEBHOOK, "DELIBIRD_RULE_WEBHOOK_ONCALL": ONCALL},
        )
        lines += dry_run("deploy-collector", mode, "--region", REGION, "--image-uri", IMAGE, env={"DELIBIRD_WEBHOOK_URL": WEBHOOK})
        lines += dry_run("deploy-forwarders", mode, "--region", REGION, *forwarders, "--call-as", "DELEGATED_ADMIN")
        lines += dry_run("send-test-event", mode, *base)
    # roll-image to a tag the repository has (one it lacks is built only from its own commit).
    lines += dry_run("roll-image", "--dry-run-existing", *base, "--tag", "t1")
    return sorted(set(lines))


CALLS = every_printed_call()


@pytest.mark.parametrize("line", CALLS, ids=[" ".join(shlex.split(line)[1:3]) for line in CALLS])
def test_the_aws_cli_accepts_every_printed_call(line):
    words = shlex.split(line)
    assert "****" not in line, "secrets travel in files, never in a printed argument"
    result = subprocess.run(
        [str(AWS_BIN / "aws"), *words[1:], "--cli-connect-timeout", "1"],
        cwd=ROOT,
        env=clean_environment(AWS_ENDPOINT_URL=DEAD_ENDPOINT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Could not connect to the endpoint URL" in result.stderr, f"the AWS CLI refused:\n{line}\n{result.stderr}"


def test_the_cli_reads_the_stack_parameters_from_the_file():
    """The pinned CLI (awscli 1.46.2) takes --parameter-overrides file:// holding a JSON list of
    Name=value: the form deploy-collector writes. (It parses the file before it calls AWS.)"""
    deploys = [line for line in CALLS if line.startswith("aws cloudformation deploy") and "parameters.json" in line]
    assert deploys, "no collector deploy among the printed calls"
    deploy = deploys[0]
    assert json.loads((FILES / "parameters.json").read_text())[0] == "ProjectCode=delibird"
    broken = FILES / "broken.json"
    broken.write_text('["ProjectCode"]')
    result = subprocess.run(
        [str(AWS_BIN / "aws"), *shlex.split(deploy)[1:], "--cli-connect-timeout", "1"],
        cwd=ROOT,
        env=clean_environment(AWS_ENDPOINT_URL=DEAD_ENDPOINT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Could not connect to the endpoint URL" in result.stderr, result.stderr
    words = [w if not w.startswith("file://") else f"file://{broken}" for w in shlex.split(deploy)[1:]]
    result = subprocess.run(
        [str(AWS_BIN / "aws"), *words, "--cli-connect-timeout", "1"], cwd=ROOT, env=clean_environment(AWS_ENDPOINT_URL=DEAD_ENDPOINT), capture_output=True, text=True, timeout=60
    )
    assert "Could not connect" not in result.stderr and "ProjectCode" in result.stderr, "a malformed file is refused before any call"


# --- For real, against moto.


@pytest.fixture
def moto():
    server = os.environ.get("DELIBIRD_MOTO_SERVER", str(ROOT / "target/test-tools/venv/bin/moto_server"))
    if not pathlib.Path(server).exists():
        pytest.fail(f"moto_server not found at {server}: run scripts/test, which installs it")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "moto did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.kill()
    process.wait()


def against(endpoint, tmp_path):
    """An environment whose aws is the real CLI pointed at moto, and whose docker records calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f'#!/bin/sh\necho "docker $*" >> "{tmp_path / "docker-calls"}"\nexit 97\n')
    (bin_dir / "docker").chmod(0o755)
    return clean_environment(AWS_ENDPOINT_URL=endpoint, PATH=f"{bin_dir}:{AWS_BIN}:{os.environ['PATH']}")


def aws(environment, *args):
    result = subprocess.run([str(AWS_BIN / "aws"), *args, "--region", REGION, "--output", "json"], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "null")


def test_push_image_converges_on_a_real_ecr_api(moto, tmp_path):
    environment = against(moto, tmp_path)
    account = aws(environment, "sts", "get-caller-identity")["Account"]
    command = [str(ROOT / "scripts/push-image"), "--region", REGION, "--tag", "t1", "--account", account]

    first = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert "creating ECR repository" in first.stderr, first.stderr
    # The tag is missing, so it builds: docker (a stand-in here) is asked to log in and fails.
    assert "docker login --username AWS --password-stdin" in (tmp_path / "docker-calls").read_text()
    assert first.returncode != 0

    # Once an image is under the tag, a second run finds everything and changes nothing.
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "0" * 64},
            "layers": [],
        }
    )
    aws(environment, "ecr", "put-image", "--repository-name", "delibird", "--image-tag", "t1", "--image-manifest", manifest)
    (tmp_path / "docker-calls").unlink()
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "creating ECR repository" not in result.stderr
    assert "not building" in result.stderr and not (tmp_path / "docker-calls").exists()
    (repository,) = aws(environment, "ecr", "describe-repositories", "--repository-names", "delibird")["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"]["encryptionType"] == "KMS"
    policy = json.loads(aws(environment, "ecr", "get-repository-policy", "--repository-name", "delibird")["policyText"])
    assert policy["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert aws(environment, "ecr", "get-lifecycle-policy", "--repository-name", "delibird")["lifecyclePolicyText"]
    assert result.stdout.strip().splitlines()[-1] == f"{account}.dkr.ecr.{REGION}.amazonaws.com/delibird:t1"


def test_send_test_event_puts_an_event_the_bus_accepts(moto, tmp_path):
    environment = against(moto, tmp_path)
    aws(environment, "events", "create-event-bus", "--name", "delibird-collector")
    result = subprocess.run([str(ROOT / "scripts/send-test-event"), "--region", REGION], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "is on delibird-collector" in result.stderr
