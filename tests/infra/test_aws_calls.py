"""The deployment commands' AWS calls against the real AWS CLI: every call any dry run prints is
one the CLI accepts (option names, shorthand syntax, types — checked against the CLI's service
models, then stopped at an endpoint that does not answer), and the commands that moto emulates
run for real against it, twice, to show they converge. Run by scripts/check-infra (pytest)."""

import json
import os
import pathlib
import shlex
import socket
import subprocess
import sys
import time

import pytest

from cfn import ROOT
from test_deploy_scripts import ACCOUNT, BUS, IMAGE, REGION, WEBHOOK

AWS_BIN = pathlib.Path(sys.executable).parent
DEAD_ENDPOINT = "http://127.0.0.1:9"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1"}


def clean_environment(**extra):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
    environment.update(CREDENTIALS)
    environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    environment.update(extra)
    return environment


def dry_run(script, *args, env=None):
    environment = clean_environment(**(env or {}))
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [line.split(" | ")[0] for line in result.stdout.splitlines() if line.startswith("aws ")]


def every_printed_call():
    base = ("--region", REGION, "--account", ACCOUNT)
    forwarders = ("--collector-bus-arn", BUS, "--organizational-units", "ou-ab12-cdef3456", "--regions", "us-east-1,eu-west-1")
    lines = []
    for mode in ("--dry-run", "--dry-run-existing"):
        lines += dry_run("push-image", mode, *base, "--tag", "t1")
        lines += dry_run("roll-image", mode, *base, "--tag", "t1")
        lines += dry_run(
            "deploy-collector",
            mode,
            "--region",
            REGION,
            "--image-uri",
            IMAGE,
            "--delivery-mode",
            "queue",
            "--account-lookup",
            "organizations",
            env={"DELIBIRD_WEBHOOK_URL": WEBHOOK},
        )
        lines += dry_run("deploy-forwarders", mode, "--region", REGION, *forwarders, "--call-as", "DELEGATED_ADMIN")
        lines += dry_run("send-test-event", mode, *base)
    return sorted(set(lines))


CALLS = every_printed_call()


@pytest.mark.parametrize("line", CALLS, ids=[" ".join(shlex.split(line)[1:3]) for line in CALLS])
def test_the_aws_cli_accepts_every_printed_call(line):
    words = shlex.split(line.replace("****", "https://chat.googleapis.com/v1/spaces/A/messages"))
    result = subprocess.run(
        [str(AWS_BIN / "aws"), *words[1:], "--cli-connect-timeout", "1"],
        cwd=ROOT,
        env=clean_environment(AWS_ENDPOINT_URL=DEAD_ENDPOINT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Could not connect to the endpoint URL" in result.stderr, f"the AWS CLI refused:\n{line}\n{result.stderr}"


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
