"""What the emulator deployment test (test_emulator_deploy.py) runs against, each on 127.0.0.1,
each wait bounded and each process ended by its owner: moto's server, the delibird Chat emulator
(`delibird chat-emulator`), a Lambda Runtime API for the real `bootstrap`, and AWS clients for
one account of the emulator."""

import http.server
import json
import os
import pathlib
import re
import socket
import subprocess
import threading
import time
import urllib.request

import boto3
import botocore.config

from cfn import ROOT

REGION = "eu-west-1"
# moto's account for credentials it did not issue: the collector (and organization management)
# account here.
DEFAULT_ACCOUNT = "123456789012"
MOTO_SERVER = os.environ.get("DELIBIRD_MOTO_SERVER", str(ROOT / "target/test-tools/venv/bin/moto_server"))
DELIBIRD_CLI = os.environ.get("DELIBIRD_CLI", str(ROOT / "target/debug/delibird"))
DELIBIRD_BOOTSTRAP = os.environ.get("DELIBIRD_BOOTSTRAP", str(ROOT / "target/debug/bootstrap"))


def executable(path, what):
    if not pathlib.Path(path).is_file():
        raise AssertionError(f"{what} not found at {path}: run scripts/check-infra, which builds and installs it")
    return path


def wait_for(probe, what, within):
    """Calls probe until it returns something true, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.05)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process):
    """Ends a process this module started, and waits for it (bounded)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Moto:
    """moto's server on a free port; everything it prints goes to `log` (read by the breakage
    test, which checks why a deployment failed)."""

    def __init__(self, log):
        self.log = log
        port = free_port()
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(
            [executable(MOTO_SERVER, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.endpoint = f"http://127.0.0.1:{port}"

        def answers():
            assert self.process.poll() is None, f"moto_server exited: {self.log_text()[-2000:]}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        try:
            wait_for(answers, "moto_server answering", 60)
        except BaseException:
            self.close()
            raise

    def log_text(self):
        self._log_file.flush()
        return pathlib.Path(self.log).read_text(errors="replace")

    def close(self):
        stop(self.process)
        self._log_file.close()


class Account:
    """boto3 clients for one account of the emulator: its credentials (moto's defaults, or what
    STS issued for a role, which moto maps to the role's account)."""

    def __init__(self, endpoint, account_id, credentials=None, region=REGION):
        self.endpoint = endpoint
        self.id = account_id
        self.region = region
        self.credentials = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": None}
        self._session = boto3.session.Session(
            aws_access_key_id=self.credentials["AccessKeyId"],
            aws_secret_access_key=self.credentials["SecretAccessKey"],
            aws_session_token=self.credentials.get("SessionToken"),
            region_name=region,
        )
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            # One attempt: a request moto fails is a finding, not something to retry.
            config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
            self._clients[service] = self._session.client(service, endpoint_url=self.endpoint, config=config)
        return self._clients[service]

    def in_region(self, region):
        return Account(self.endpoint, self.id, self.credentials, region)

    def assume(self, role_arn):
        """The account a role belongs to, through STS AssumeRole (moto maps the credentials)."""
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="emulator-test")["Credentials"]
        account = Account(self.endpoint, role_arn.split(":")[4], credentials, self.region)
        assert account.client("sts").get_caller_identity()["Account"] == account.id
        return account

    def environment(self):
        """The variables that point an AWS SDK (bootstrap's, the AWS CLI's) at this account."""
        variables = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": self.credentials["SecretAccessKey"],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        if self.credentials.get("SessionToken"):
            variables["AWS_SESSION_TOKEN"] = self.credentials["SessionToken"]
        return variables


class ChatEmulator:
    """`delibird chat-emulator --port 0 --min-interval-ms 0` as a process: its webhook URL (first
    stdout line) and what it accepted (GET /_emulator/messages)."""

    def __init__(self, directory):
        self._stdout = directory / "chat-emulator.out"
        self._stderr = directory / "chat-emulator.err"
        with open(self._stdout, "wb") as out, open(self._stderr, "wb") as err:
            self.process = subprocess.Popen(
                [executable(DELIBIRD_CLI, "delibird"), "chat-emulator", "--port", "0", "--min-interval-ms", "0"],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

        def first_line():
            assert self.process.poll() is None, f"delibird chat-emulator exited: {redact(self._stderr.read_text())}"
            text = self._stdout.read_text()
            return text.splitlines()[0] if "\n" in text else None

        try:
            self.webhook_url = wait_for(first_line, "the Chat emulator's webhook URL", 30)
            found = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/v1/spaces/[^/?]+/messages\?key=([^&]+)&token=(.+)", self.webhook_url)
            assert found, "the Chat emulator's first line is not a webhook URL on 127.0.0.1"
        except BaseException:
            self.close()
            raise
        self.port, self.key, self.token = int(found[1]), found[2], found[3]

    def received(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_emulator/messages", timeout=10) as answer:
            return json.load(answer)

    def close(self):
        stop(self.process)


def redact(text, *secrets):
    """Text safe to print: the emulator's webhook key and token, and any other given secret,
    replaced by ****."""
    for secret in ("emulator-secret-token-0123456789", "emulator-key", *secrets):
        if secret:
            text = text.replace(secret, "****")
    return re.sub(r"([?&](?:key|token)=)[^&\s\"']+", r"\1****", text)


class RuntimeApi:
    """The AWS Lambda Runtime API, as much of it as a custom runtime uses: GET
    /2018-06-01/runtime/invocation/next hands out queued invocations (with
    lambda-runtime-aws-request-id, -deadline-ms, -invoked-function-arn, -trace-id); POST
    …/invocation/{id}/response and …/{id}/error, and /runtime/init/error, are recorded."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self, function_arn, timeout_s):
        self.function_arn = function_arn
        self.timeout_s = timeout_s
        self._changed = threading.Condition()
        self._queue = []
        self.replies = {}
        self.init_errors = []
        self._closing = False
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{api.PREFIX}/invocation/next":
                    return self._answer(404)
                with api._changed:
                    # Bounded: a runtime left waiting is answered when the API closes, or after
                    # a minute with nothing queued.
                    api._changed.wait_for(lambda: api._queue or api._closing, timeout=60)
                    if not api._queue:
                        return self._answer(503)
                    request_id, payload = api._queue.pop(0)
                deadline = int((time.time() + api.timeout_s) * 1000)
                headers = [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.function_arn),
                    ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"),
                ]
                self._answer(200, json.dumps(payload).encode(), headers)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    document = json.loads(body or b"null")
                except ValueError:
                    document = body.decode(errors="replace")
                found = re.fullmatch(rf"{api.PREFIX}/invocation/([^/]+)/(response|error)", self.path)
                with api._changed:
                    if found:
                        api.replies[found[1]] = (found[2], document)
                    elif self.path == f"{api.PREFIX}/init/error":
                        api.init_errors.append(document)
                    else:
                        return self._answer(404)
                    api._changed.notify_all()
                self._answer(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def invoke(self, request_id, payload):
        with self._changed:
            self._queue.append((request_id, payload))
            self._changed.notify_all()

    def reply(self, request_id, within, runtime):
        """('response' | 'error', body) for the invocation, waiting at most `within` seconds, or
        None (also when the runtime process ended or reported an init error)."""
        deadline = time.monotonic() + within
        with self._changed:
            while request_id not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.init_errors or runtime.poll() is not None:
                    return None
                self._changed.wait(timeout=min(left, 0.2))
            return self.replies[request_id]

    def close(self):
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class Bootstrap:
    """The real `bootstrap` binary under a RuntimeApi, with the given environment only (plus
    PATH); stdout and stderr to one file."""

    def __init__(self, api, environment, output):
        self.output = output
        with open(output, "wb") as log:
            self.process = subprocess.Popen(
                [executable(DELIBIRD_BOOTSTRAP, "bootstrap")],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment, "AWS_LAMBDA_RUNTIME_API": api.address},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def printed(self):
        return pathlib.Path(self.output).read_text(errors="replace")

    def close(self):
        stop(self.process)
