"""`delibird redrive` as an operator runs it after an outage: the dead-letter queue's full URL as
the collector's `DeadLetterQueueUrl` output prints it, and no AWS_REGION set. The Region comes
from the URL, the SDK prints no instance-metadata warnings, and each message becomes one card in
the Chat emulator and leaves the queue. Against moto's SQS and `delibird chat-emulator`, both on
127.0.0.1."""

import json
import os
import subprocess

import pytest

from cfn import ROOT
from emulator import DEFAULT_ACCOUNT, DELIBIRD_CLI, Account, ChatEmulator, Moto, executable, redact

QUEUE_REGION = "eu-west-2"
QUEUE_NAME = "delibird-dead-letters"


@pytest.fixture
def moto(tmp_path):
    server = Moto(tmp_path / "moto.log")
    yield server
    server.close()


@pytest.fixture
def chat(tmp_path):
    emulator = ChatEmulator(tmp_path)
    yield emulator
    emulator.close()


def notification(event):
    """An SQS-mode dead letter: the SNS notification the topic delivered to the queue."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "6f4c9a52-1d2e-4b1a-9c0e-2a7d3b1e5f00",
            "TopicArn": f"arn:aws:sns:{QUEUE_REGION}:{DEFAULT_ACCOUNT}:delibird",
            "Message": json.dumps(event),
            "Timestamp": "2026-12-02T10:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
            "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
            "UnsubscribeURL": "https://sns.eu-west-2.amazonaws.com/?Action=Unsubscribe",
        }
    )


def test_redrive_takes_the_region_from_the_queue_url_and_posts_each_dead_letter_once(moto, chat, tmp_path):
    sqs = Account(moto.endpoint, DEFAULT_ACCOUNT, region=QUEUE_REGION).client("sqs")
    moto_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    event = json.loads((ROOT / "tests/fixtures/health-events/seed-project-health107.json").read_text())
    sqs.send_message(QueueUrl=moto_url, MessageBody=notification(event))
    queue_url = f"https://sqs.{QUEUE_REGION}.amazonaws.com/{DEFAULT_ACCOUNT}/{QUEUE_NAME}"

    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        # The webhook through the environment, never an argument.
        "DELIBIRD_WEBHOOK_URL": chat.webhook_url,
        "DELIBIRD_ALLOW_LOOPBACK_WEBHOOK": "1",
    }
    assert not {"AWS_REGION", "AWS_DEFAULT_REGION"} & environment.keys()
    done = subprocess.run(
        [executable(DELIBIRD_CLI, "delibird"), "redrive", "--queue-url", queue_url],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    printed = redact(done.stdout + done.stderr)

    assert done.returncode == 0, printed
    assert "1 message(s) read, 1 deleted, 0 left in the queue; 1 card(s) posted" in done.stdout, printed
    assert "Missing Region" not in printed and "IMDS" not in printed and "metadata" not in printed.lower(), printed
    received = chat.received()["messages"]
    assert len(received) == 1, printed
    assert "ECS task patching retirement" in json.dumps(received[0]["body"]), received[0]
    attributes = sqs.get_queue_attributes(QueueUrl=moto_url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
