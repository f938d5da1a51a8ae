"""The collector and forwarder templates deployed in an AWS emulator (moto's server on 127.0.0.1),
created and updated through CloudFormation's API with the parameters the deployment scripts pass,
and one AWS Health event carried from a member account's bus, through the deployed rules, bus
policy, topic (and queue), to the real `bootstrap` under a local Lambda Runtime API, which posts
one card to the Chat emulator. docs/emulator-deployment.md tells which hop is exercised how.

Where moto falls short the test says so by name: the patches it makes to a copy of a template
(EMULATOR_PATCHES), the resource types moto's CloudFormation does not create and how the test
stands in for each (NOT_CREATED), the hops it stands in for (DELIVERY_STAND_INS), and what moto
does differently from AWS, each asserted where it shows (MOTO_DEVIATIONS): a deviation that
disappears fails the test, so the lists stay true. The shipped templates are never changed.

scripts/check-infra runs this file in a step of its own; `pytest tests/infra` leaves it out
(conftest.py). Alone: DELIBIRD_CLI=… DELIBIRD_BOOTSTRAP=… pytest tests/infra/test_emulator_deploy.py
"""

import ast
import copy
import json
import os
import re
import shlex
import subprocess
import sys
import time

import botocore.exceptions
import botocore.parsers
import pytest

from cfn import ROOT, load
from emulator import (
    DEFAULT_ACCOUNT,
    DELIBIRD_CLI,
    REGION,
    Account,
    Bootstrap,
    ChatEmulator,
    Moto,
    RuntimeApi,
    executable,
    redact,
    wait_for,
)
from policy import decide

AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")
OUTSIDER = "444455556666"
# The webhook the collector stack is first created with, as scripts/deploy-collector takes it
# (DELIBIRD_WEBHOOK_URL). Never posted to: the end-to-end runs read a secret holding the
# Chat emulator's URL instead (see NOT_CREATED["AWS::SecretsManager::Secret"]).
CHAT_URL = "https://chat.googleapis.com/v1/spaces/EMULATOR/messages?key=placeholder-key&token=placeholder-token"
READ_OUT = "EmulatorReadOut"


# --- Patches to a copy of a template, for the emulator only: (name, reason, function).


def _drop_kms_key_tags(template):
    changed = 0
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key" and resource.get("Properties", {}).pop("Tags", None) is not None:
            changed += 1
    return changed


def _event_bus_ref_as_name(template):
    buses = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::Events::EventBus"}
    changed = 0

    def walk(node):
        nonlocal changed
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in buses:
                changed += 1
                return {"Fn::GetAtt": [node["Ref"], "Name"]}
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    template["Resources"] = walk(template["Resources"])
    return changed


def _read_outs(template):
    """Outputs that hand back, as JSON, what the emulator's CloudFormation resolved: every
    condition's value and every resource's properties (Ref, GetAtt, Sub, If filled in)."""
    outputs = template.setdefault("Outputs", {})
    for name in template.get("Conditions", {}):
        outputs[f"{READ_OUT}Condition{name}"] = {"Value": {"Fn::If": [name, "true", "false"]}}
    for name, resource in template["Resources"].items():
        output = {"Value": {"Fn::ToJsonString": resource.get("Properties", {})}}
        if "Condition" in resource:
            output["Condition"] = resource["Condition"]
        outputs[f"{READ_OUT}Resource{name}"] = output
    return len(outputs)


EMULATOR_PATCHES = [
    (
        "AWS::KMS::Key without Tags",
        "moto's CloudFormation hands the key's Key/Value tags to a tagger that reads TagKey/TagValue "
        "and fails the stack (KeyError: 'TagKey'); nothing in the emulator reads the tags",
        _drop_kms_key_tags,
    ),
    (
        "Ref of an AWS::Events::EventBus written as Fn::GetAtt Name",
        "moto's EventBus has no physical id, so its Ref resolves to a Python object and the rule on "
        "it fails (AttributeError: 'EventBus' object has no attribute 'split'); CloudFormation's Ref "
        "of a bus is its name, which is what GetAtt Name gives",
        _event_bus_ref_as_name,
    ),
    (
        "read-out Outputs",
        "not a fix: outputs the test reads to learn which conditions hold and the properties moto's "
        "CloudFormation resolved, so it can tell which resources should exist and stand in for "
        "those moto does not create",
        _read_outs,
    ),
]


def patched(template, read_outs=True):
    """A copy of a template (as cfn.load reads it) with EMULATOR_PATCHES applied, and the names
    of those that changed something."""
    template = copy.deepcopy(template)
    applied = []
    for patch, _, function in EMULATOR_PATCHES:
        if (read_outs or function is not _read_outs) and function(template):
            applied.append(patch)
    return template, applied


def emulator_copy(name, directory, read_outs=True):
    """templates/NAME patched for the emulator, as compact JSON in `directory`."""
    template_, applied = patched(load(name), read_outs)
    path = directory / f"emulator-{name.replace('.yaml', '')}{'' if read_outs else '-plain'}.json"
    path.write_text(json.dumps(template_, separators=(",", ":")))
    return path, applied


# --- Resource types moto's CloudFormation does not create ("No Moto CloudFormation support"; a
# Ref to such a resource resolves to nothing), and how the test stands in for each: it applies the
# properties moto's CloudFormation resolved (the read-outs) through the service's own API.


def _apply_bus_policy(account, properties, deployment):
    events = account.client("events")
    bus = properties["EventBusName"]
    held = events.describe_event_bus(Name=bus).get("Policy")
    statements = [s for s in (json.loads(held)["Statement"] if held else []) if s.get("Sid") != properties["StatementId"]]
    statements.append({"Sid": properties["StatementId"], **properties["Statement"]})
    events.put_permission(EventBusName=bus, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def _apply_topic_policy(account, properties, deployment):
    for topic in properties["Topics"]:
        account.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
        )


def _apply_queue_policy(account, properties, deployment):
    for queue in properties["Queues"]:
        account.client("sqs").set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(properties["PolicyDocument"])})


def _attribute(value):
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _apply_subscription(account, properties, deployment):
    sns = account.client("sns")
    topic, protocol, endpoint = properties["TopicArn"], properties["Protocol"], properties["Endpoint"]
    attributes = {k: _attribute(v) for k, v in properties.items() if k not in ("TopicArn", "Protocol", "Endpoint", "Region")}
    existing = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    if not any(s["Protocol"] == protocol and s["Endpoint"] == endpoint for s in existing):
        arn = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes, ReturnSubscriptionArn=True)
        deployment.subscriptions[(topic, protocol, endpoint)] = arn["SubscriptionArn"]


def _apply_event_invoke_config(account, properties, deployment):
    account.client("lambda").put_function_event_invoke_config(**properties)


def _apply_role_policy(account, properties, deployment):
    account.client("iam").put_role_policy(
        RoleName=properties["RoleName"], PolicyName=properties["PolicyName"], PolicyDocument=json.dumps(properties["PolicyDocument"])
    )


def _apply_alarm(account, properties, deployment):
    account.client("cloudwatch").put_metric_alarm(**properties)


def _apply_schedule(account, properties, deployment):
    scheduler = account.client("scheduler")
    try:
        scheduler.get_schedule(Name=properties["Name"])
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**properties)
    else:
        scheduler.update_schedule(**properties)


NOT_CREATED = {
    "AWS::Events::EventBusPolicy": (
        "applied with PutPermission; moto stores a bus policy but never evaluates it (it delivers "
        "an outsider's event too): the test evaluates it (policy.py), with aws:PrincipalOrgID from "
        "moto's Organizations, before it carries an event on",
        _apply_bus_policy,
    ),
    "AWS::SNS::TopicPolicy": ("applied with SetTopicAttributes; not evaluated by moto: the test evaluates it", _apply_topic_policy),
    "AWS::SQS::QueuePolicy": ("applied with SetQueueAttributes; not evaluated by moto: the test evaluates it", _apply_queue_policy),
    "AWS::SNS::Subscription": (
        "created with Subscribe; the topic then delivers to an SQS subscription for real (a lambda "
        "one is swapped for a tap queue: DELIVERY_STAND_INS)",
        _apply_subscription,
    ),
    "AWS::Lambda::EventInvokeConfig": (
        "applied with PutFunctionEventInvokeConfig; moto never retries an asynchronous invocation, "
        "so the retry settings are checked statically only",
        _apply_event_invoke_config,
    ),
    "AWS::IAM::RolePolicy": ("applied with PutRolePolicy; moto does not evaluate IAM permissions (static checks only)", _apply_role_policy),
    "AWS::CloudWatch::Alarm": ("applied with PutMetricAlarm; no metric reaches it in moto (static checks only)", _apply_alarm),
    "AWS::Scheduler::Schedule": (
        "created (then updated) with moto's Scheduler API, CreateSchedule / UpdateSchedule; moto's "
        "Scheduler never fires a schedule, so its target, input, role, retries and dead-letter queue "
        "are checked as deployed, and no tick is carried",
        _apply_schedule,
    ),
    "AWS::SecretsManager::Secret": (
        "not stood in for: the function's DELIBIRD_WEBHOOK_SECRET (a Ref to it) is left out of "
        "its environment, so no later secret would reach it; the end-to-end runs therefore deploy "
        "with WebhookSecretArn, a secret the test creates and fills with the Chat emulator's URL",
        None,
    ),
}

# The hops the test carries itself, because moto does not: (hop, why, what the test does).
DELIVERY_STAND_INS = [
    (
        "AWS Health puts the event on the member account's bus",
        "only AWS Health does; PutEvents may not claim an aws.* source in AWS",
        "PutEvents with source aws.health, which moto allows",
    ),
    (
        "collector rule → SNS topic",
        "moto's EventBridge delivers to no SNS target (NotImplementedError, failing the PutEvents that matched)",
        "each of the stack's rules' topic targets (same Id) is pointed at a tap queue; the test "
        "publishes what arrives there to that topic, as EventBridge would",
    ),
    (
        "SNS topic → Lambda (direct mode)",
        "moto's SNS invokes a lambda subscription in-process with a placeholder event "
        "(TopicArn arn:aws:sns:EXAMPLE) and fails on a PackageType Image function",
        "the function's subscription is created, then swapped for a tap queue; the test builds the "
        "Lambda SNS event from the notification the topic delivered there",
    ),
    (
        "SQS queue → Lambda (queue mode)",
        "moto's event source mapping invokes the function inside SendMessage and fails on a "
        "PackageType Image function (AttributeError: code_digest), failing the topic's publish",
        "the mapping is disabled; the test receives from its queue with its batch size and builds "
        "the SQS event Lambda would, then deletes what the function did not report failed",
    ),
    (
        "Lambda runs the function",
        "moto runs functions only in Docker, and not PackageType Image ones",
        "the real bootstrap, under the test's Runtime API, with the environment moto holds for the "
        "function and credentials of its role",
    ),
]

# What moto does differently from AWS, asserted where it shows.
MOTO_DEVIATIONS = {
    "forwarded-event": "an event bus target in another account gets a new PutEvents: a new id, resources dropped",
    "no-account": "moto's default target input leaves out the event's `account`",
    "function-configuration": "moto's CloudFormation drops the function's PackageType, Architectures, "
    "KmsKeyArn, DeadLetterConfig and LoggingConfig (moto shows Zip, x86_64)",
    "update-keeps-false-condition": "UpdateStack does not delete a resource whose Condition became false",
    "update-keeps-if-values": "UpdateStack re-applies only resources that Ref a changed parameter: a property "
    "chosen by Fn::If on a changed condition (the key policy) keeps its old value",
    "update-keeps-role-policies": "UpdateStack of an AWS::IAM::Role changes its description only: its inline Policies stay as created",
    "role-policy-repr": "an inline policy of a role CloudFormation made comes back from GetRolePolicy as a Python repr, not JSON",
    "use-previous-value": "UpdateStack's UsePreviousValue fails (500, KeyError) for a parameter that took its default at creation",
    "update-resolves-false-condition": "an update takes every parameter it keeps that creation did not give for changed, "
    "re-applies each resource that Refs one even when its Condition is false, and fails on that resource's GetAtt "
    "of a resource that does not exist: `aws cloudformation deploy` cannot update a direct-mode collector",
    "change-set-outputs": "a stack made by ExecuteChangeSet (`aws cloudformation deploy`) has no Outputs",
    "no-rules-or-parameter-checks": "the template's Rules, and parameter AllowedValues, are not evaluated",
    "no-index-arn": "DescribeTable gives a global secondary index no IndexArn",
    "describe-key": "DescribeKey of a key moto's CloudFormation made fails (500, TypeError): moto keeps the key's "
    "policy as a dict where its policy check reads JSON",
    "no-value-in-list": "a list item that is Ref AWS::NoValue (an Fn::If's other branch) stays in the list as null, "
    "where CloudFormation removes it: the key policy moto holds has a null statement",
}


def without_no_value(node):
    """A resolved value as CloudFormation makes it: the list items that were Ref AWS::NoValue
    removed (MOTO_DEVIATIONS["no-value-in-list"] leaves them as null)."""
    if isinstance(node, dict):
        return {key: without_no_value(value) for key, value in node.items()}
    if isinstance(node, list):
        return [without_no_value(value) for value in node if value is not None]
    return node


# --- The deployment scripts' parameters, from their dry runs.


# A dry run shows each private file a call reads (`file://NAME`) as a comment above the call, its
# content with every secret as **** (scripts/lib/deploy.sh, private_file).
PRIVATE_FILE = re.compile(r"# (\S+) \(a file only you can read, removed afterwards\): (.*)")


class DryRun:
    """What a deployment script's dry run printed: the AWS calls it would make, as words, and the
    content of the private files they would read. `mode` is --dry-run (probes answer as on a first
    deployment) or --dry-run-existing (as if everything existed)."""

    def __init__(self, script, *args, env=None, mode="--dry-run", secret=None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DELIBIRD_"))}
        environment.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}, **(env or {}))
        result = subprocess.run(
            [str(ROOT / "scripts" / script), mode, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, redact(result.stderr, secret)
        # Counted, not compared, so that a failure does not print it either.
        assert secret is None or (result.stdout + result.stderr).count(secret) == 0, f"{script} printed the webhook"
        lines = result.stdout.splitlines()
        self.calls = [shlex.split(line) for line in lines if line.startswith("aws ")]
        self.files = {found[1]: found[2] for line in lines if (found := PRIVATE_FILE.fullmatch(line))}

    def call(self, *head):
        """The one call that starts `aws HEAD…`."""
        (words,) = [words for words in self.calls if words[1 : 1 + len(head)] == list(head)]
        return words


def option(words, name):
    index = words.index(name)
    values = []
    for word in words[index + 1 :]:
        if word.startswith("--"):
            break
        values.append(word)
    return values


def collector_call(args, webhook=None, mode="--dry-run"):
    """The `aws cloudformation deploy` call scripts/deploy-collector makes, as words, and the
    parameters it passes, from the private file the call reads (the masked webhook put back),
    and the dry run itself."""
    env = {"DELIBIRD_WEBHOOK_URL": webhook} if webhook else {}
    run = DryRun("deploy-collector", "--region", REGION, *args, env=env, mode=mode, secret=webhook)
    words = run.call("cloudformation", "deploy")
    (reference,) = option(words, "--parameter-overrides")
    assert reference.startswith("file://"), "the parameters travel in a private file, never as arguments"
    items = json.loads(run.files[reference.removeprefix("file://")])
    parameters = dict(item.split("=", 1) for item in items)
    assert len(parameters) == len(items), f"a parameter given twice: {items}"
    if webhook:
        parameters = {k: v.replace("****", webhook) for k, v in parameters.items()}
    return words, parameters, run


# --- Stacks.


class Stack:
    """One stack in the emulator: how it was deployed, and what each step left."""

    def __init__(self, account, name, original, body):
        self.account, self.name, self.original, self.body = account, name, original, body
        self.cf = account.client("cloudformation")
        self.steps = []
        self.subscriptions = {}

    def describe(self):
        return self.cf.describe_stacks(StackName=self.name)["Stacks"][0]

    def _settle(self):
        return wait_for(lambda: (s := self.describe())["StackStatus"].endswith("_COMPLETE") and s, f"stack {self.name} settling", 60)

    def create(self, parameters, capabilities, tags=()):
        self.given_at_creation = list(parameters)
        self.cf.create_stack(
            StackName=self.name,
            TemplateBody=self.body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=capabilities,
            Tags=[{"Key": k, "Value": v} for k, v in tags],
        )
        return self._record("create")

    def update(self, parameters, capabilities):
        """An update as `aws cloudformation deploy` makes it: every template parameter not given
        keeps its previous value. MOTO_DEVIATIONS["use-previous-value"]: only those given at
        creation are sent with UsePreviousValue; the others, left out, take their default again,
        which is what they had."""
        given = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
        kept = [{"ParameterKey": k, "UsePreviousValue": True} for k in self.given_at_creation if k not in parameters]
        self.cf.update_stack(StackName=self.name, TemplateBody=self.body, Parameters=given + kept, Capabilities=capabilities)
        return self._record("update")

    def _record(self, step):
        stack = self._settle()
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        resources = self.cf.describe_stack_resources(StackName=self.name)["StackResources"]
        created = {r["LogicalResourceId"]: r for r in resources if r.get("LogicalResourceId")}
        conditions = {k.removeprefix(f"{READ_OUT}Condition"): v == "true" for k, v in outputs.items() if k.startswith(f"{READ_OUT}Condition")}
        resolved = {k.removeprefix(f"{READ_OUT}Resource"): json.loads(v) for k, v in outputs.items() if k.startswith(f"{READ_OUT}Resource")}
        active = {n for n, r in self.original["Resources"].items() if "Condition" not in r or conditions[r["Condition"]]}
        record = {
            "step": step,
            "status": stack["StackStatus"],
            "parameters": {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]},
            "outputs": {k: v for k, v in outputs.items() if not k.startswith(READ_OUT)},
            "created": created,
            "active": active,
            "resolved": resolved,
        }
        self.steps.append(record)
        return record

    @property
    def last(self):
        return self.steps[-1]

    def of_type(self, kind):
        return [n for n in self.last["active"] if self.original["Resources"][n]["Type"] == kind]

    def stand_in(self):
        """Applies, through the services' APIs, each active resource moto did not create."""
        for name in sorted(self.last["active"] - set(self.last["created"])):
            kind = self.original["Resources"][name]["Type"]
            if kind in NOT_CREATED and NOT_CREATED[kind][1]:
                NOT_CREATED[kind][1](self.account, without_no_value(self.last["resolved"][name]), self)


def check_resources(stack, record, before=None):
    """Every active resource was created, unless moto does not create its type (NOT_CREATED)."""
    types = {n: r["Type"] for n, r in stack.original["Resources"].items()}
    created, active = set(record["created"]), record["active"]
    unexplained = sorted(f"{n} ({types[n]})" for n in active - created if types[n] not in NOT_CREATED)
    assert not unexplained, (
        f"{stack.name} {record['step']}: moto did not create {unexplained}: name the type in NOT_CREATED, with how the test covers it"
    )
    now_created = sorted({types[n] for n in created if types[n] in NOT_CREATED})
    assert not now_created, f"moto now creates {now_created}: take them out of NOT_CREATED and their stand-ins"
    assert all(r["ResourceStatus"].endswith("_COMPLETE") for r in record["created"].values())
    inactive = created - active
    if before is None:
        assert not inactive, f"{stack.name}: resources whose condition is false were created: {sorted(inactive)}"
    else:
        # MOTO_DEVIATIONS["update-keeps-false-condition"]: what the update turned off stays.
        assert inactive == (before["active"] - active) & set(before["created"]), f"{stack.name}: {sorted(inactive)} left after the update"


class World:
    """moto with an organization: the collector (its management) account, a member account in an
    OU, an outsider account in no organization, and the secret the collector functions read."""

    def __init__(self, moto, directory):
        self.directory = directory
        self.moto = moto
        self.collector = Account(self.moto.endpoint, DEFAULT_ACCOUNT)
        organizations = self.collector.client("organizations")
        self.organization = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        root = organizations.list_roots()["Roots"][0]["Id"]
        self.unit = organizations.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
        status = organizations.create_account(AccountName="payments-prod", Email="payments@example.com")["CreateAccountStatus"]
        organizations.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=self.unit)
        self.member = self.collector.assume(f"arn:aws:iam::{status['AccountId']}:role/OrganizationAccountAccessRole")
        self.outsider = self.collector.assume(f"arn:aws:iam::{OUTSIDER}:role/intruder")
        key = self.collector.client("kms").create_key(Description="the webhook secret's own key")["KeyMetadata"]["Arn"]
        self.secret_key = key
        self.secret = self.collector.client("secretsmanager").create_secret(
            Name="chat/delibird-webhook", KmsKeyId=key, SecretString=CHAT_URL
        )["ARN"]
        self.collector_body, _ = emulator_copy("collector.yaml", directory)
        self.forwarder_body, _ = emulator_copy("forwarder.yaml", directory)

    def organization_of(self, account):
        """aws:PrincipalOrgID of a principal of `account`, as moto's Organizations answers it."""
        try:
            return account.client("organizations").describe_organization()["Organization"]["Id"]
        except botocore.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AWSOrganizationsNotInUseException", error
            return None



@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("emulator")
    moto = Moto(directory / "moto.log")
    try:
        yield World(moto, directory)
    finally:
        moto.close()


# Routing rules, as `deploy-collector --rules-file` uploads them to /CODE/rules: they name their
# webhooks (SSM parameters under /CODE/webhooks/), never hold one.
RULES = """default = "platform"

[webhooks]
platform = "ssm:/delibird-r/webhooks/platform"
oncall = "ssm:/delibird-r/webhooks/oncall"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"""
RULES_AMENDED = RULES + """
[[rule]]
name = "issues to on-call too"
where = "detail.eventTypeCategory = 'issue'"
webhooks = ["oncall"]
"""

# The collector stacks, each created then updated with the options given here (the update through
# a dry run as if the stack existed: --dry-run-existing). direct and queue are the delivery modes,
# each created with the organization feed one way and updated to the other: direct is created
# with the webhook URL (CreateSecret), as deploy-collector takes it by default, and updated to the
# secret the test fills, with reminders and the digest off (no schedule); queue takes the default
# delivery mode, reminders and digest, and uses that secret, with its own KMS key, from the start.
# rules keeps its routing rules in SSM (RulesParameterName, no webhook of its own), serves a second
# organization, sets the reminders, the digest, the tick schedule and the card settings itself,
# and its update uploads amended rules, turns the digest off and changes the schedule.
SECOND_ORGANIZATION = "o-secondorg01"
COLLECTORS = {
    "direct": {
        "project": "delibird",
        "mode": "direct",
        "create": ["--delivery-mode", "direct", "--organization-feed", "disabled", "--reminders", "", "--digest-at", ""],
        "webhook": CHAT_URL,
        "update": ["--webhook-secret-arn", "{secret}", "--organization-feed", "enabled"],
    },
    "queue": {
        "project": "delibird-q",
        "mode": "queue",
        "create": ["--organization-feed", "enabled", "--webhook-secret-arn", "{secret}", "--webhook-secret-key-arn", "{secret_key}"],
        "update": ["--organization-feed", "disabled"],
    },
    "rules": {
        "project": "delibird-r",
        "mode": "queue",
        "organizations": f"{{organization}},{SECOND_ORGANIZATION}",
        "create": ["--rules-file", "{rules}", "--reminders", "2d,4h", "--digest-at", "08:30", "--digest-time-zone", "Europe/Berlin",
                   "--tick-schedule", "rate(5 minutes)", "--rollup", "disabled", "--account-tags", "Owner,Team",
                   "--account-ou-path", "disabled", "--language", "ja_JP", "--severity-critical-keywords", "BREACH,RANSOM"],
        "rules": {"create": RULES, "update": RULES_AMENDED},
        "update": ["--rules-file", "{rules}", "--digest-at", "", "--tick-schedule", "cron(0/10 * * * ? *)"],
    },
}


class Collector(Stack):
    def __init__(self, world, name):
        self.world, self.variant = world, name
        self.plan = COLLECTORS[name]
        self.project, self.mode = self.plan["project"], self.plan["mode"]
        super().__init__(world.collector, f"{self.project}-collector", load("collector.yaml"), world.collector_body.read_text())
        self.taps = {}
        self.calls = {}

    def script_call(self, step):
        """deploy-collector's call for this step, its parameters, and, with rules, the version
        the rules upload made."""
        rules = None
        if "rules" in self.plan:
            rules = self.world.directory / f"rules-{self.project}-{step}.toml"
            rules.write_text(self.plan["rules"][step])
        values = {"secret": self.world.secret, "secret_key": self.world.secret_key, "rules": rules, "organization": self.world.organization}
        args = [a.format(**values) for a in self.plan[step]]
        common = ["--project", self.project, "--organization-id", self.plan.get("organizations", "{organization}").format(**values)]
        if step == "create":
            common += ["--image-uri", f"{DEFAULT_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/delibird:t1"]
        words, parameters, run = collector_call(
            common + args, webhook=self.plan.get("webhook") if step == "create" else None, mode="--dry-run" if step == "create" else "--dry-run-existing"
        )
        if rules:
            parameters = self.upload_rules(run, rules, parameters)
        return words, parameters

    def upload_rules(self, run, rules, parameters):
        """The rules upload the dry run shows (`aws ssm put-parameter … --value file://RULES`),
        made by the AWS CLI against the emulator; the RulesVersion it yields, as the script records
        it, in place of the dry run's placeholder."""
        upload = run.call("ssm", "put-parameter")
        assert (option(upload, "--name"), option(upload, "--value")) == ([parameters["RulesParameterName"]], [f"file://{rules}"])
        result = run_aws_cli(self.account, upload, self.world.directory)
        assert result.returncode == 0, redact(result.stderr)
        version = result.stdout.strip()
        assert parameters["RulesVersion"] == "rules@NEW_VERSION", "the dry run's placeholder for the stored version"
        return {**parameters, "RulesVersion": f"rules@{version}"}

    def deploy(self, step):
        words, parameters = self.calls[step] = self.script_call(step)
        assert option(words, "--stack-name") == [self.name]
        capabilities = option(words, "--capabilities")
        if step == "create":
            tags = [tuple(t.split("=", 1)) for t in option(words, "--tags")]
            record = self.create(parameters, capabilities, tags)
        else:
            record = self.update(parameters, capabilities)
        self.stand_in()
        self.stand_in_delivery()
        return record

    # DELIVERY_STAND_INS: the hops moto does not carry.

    def tap(self, name):
        sqs = self.account.client("sqs")
        url = sqs.create_queue(QueueName=f"emulator-tap-{name}")["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def stand_in_delivery(self):
        events, sns, lam = (self.account.client(s) for s in ("events", "sns", "lambda"))
        for name in self.of_type("AWS::Events::Rule"):
            rule = self.last["created"][name]["PhysicalResourceId"]
            bus = self.last["resolved"][name].get("EventBusName", "default")
            for target in events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]:
                if target["Arn"].startswith("arn:aws:sns:"):
                    url, arn = self.tap(rule)
                    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{**target, "Arn": arn}])
                    self.taps[name] = {"url": url, "topic": target["Arn"], "rule": rule, "bus": bus}
        for (topic, protocol, endpoint), arn in list(self.subscriptions.items()):
            if protocol == "lambda":
                url, tap_arn = self.tap(f"{self.project}-function-subscription")
                sns.unsubscribe(SubscriptionArn=arn)
                existing = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
                if not any(s["Endpoint"] == tap_arn for s in existing):
                    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn, ReturnSubscriptionArn=True)
                self.taps["function-subscription"] = {"url": url, "subscription": arn, "function": endpoint}
                del self.subscriptions[(topic, protocol, endpoint)]
        for mapping in lam.list_event_source_mappings(FunctionName=self.last["outputs"]["FunctionName"])["EventSourceMappings"]:
            if mapping["State"] != "Disabled":
                lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)

    def drain_taps(self):
        """Empties the taps (PurgeQueue is allowed once a minute): what an earlier test left."""
        sqs = self.account.client("sqs")
        for tap in self.taps.values():
            for _ in range(100):
                messages = sqs.receive_message(QueueUrl=tap["url"], MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    sqs.delete_message(QueueUrl=tap["url"], ReceiptHandle=message["ReceiptHandle"])


def receive(account, url, count, within=10, batch=10):
    """Exactly `count` messages from a queue, waiting at most `within` seconds, then making sure
    no further one is there."""
    sqs = account.client("sqs")
    got = []
    deadline = time.monotonic() + within
    while len(got) < count and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(batch, 10), WaitTimeSeconds=1, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        got += answer.get("Messages", [])
    extra = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert len(got) == count and not extra, f"{url}: {len(got)} messages (+{len(extra)}), expected {count}"
    return got


@pytest.fixture(scope="module")
def collectors(world):
    deployed = {}
    for name in COLLECTORS:
        collector = Collector(world, name)
        collector.deploy("create")
        collector.deploy("update")
        deployed[name] = collector
    return deployed


class Forwarder(Stack):
    """templates/forwarder.yaml as a plain stack in one account, with the parameters
    scripts/deploy-forwarders gives its StackSet (whose instances are such stacks)."""

    def __init__(self, world, account):
        super().__init__(account, "delibird-forwarder", load("forwarder.yaml"), world.forwarder_body.read_text())
        self.world = world

    def script_call(self, bus_arn):
        run = DryRun(
            "deploy-forwarders", "--region", REGION, "--collector-bus-arn", bus_arn, "--organizational-units", self.world.unit,
            "--regions", REGION,
        )
        words = run.call("cloudformation", "create-stack-set")
        parameters = dict(p.removeprefix("ParameterKey=").split(",ParameterValue=", 1) for p in option(words, "--parameters"))
        return parameters, option(words, "--capabilities")

    def forward_to(self, bus_arn):
        parameters, capabilities = self.script_call(bus_arn)
        if not self.steps:
            self.create(parameters, capabilities)
        elif self.last["parameters"]["CollectorEventBusArn"] != bus_arn:
            self.update(parameters, capabilities)
        else:
            return self.last
        self.stand_in()
        return self.last


@pytest.fixture(scope="module")
def forwarder(world, collectors):
    forwarder = Forwarder(world, world.member)
    forwarder.forward_to(collectors["direct"].last["outputs"]["EventBusArn"])
    return forwarder


# --- The stacks reach CREATE_COMPLETE, then UPDATE_COMPLETE.


@pytest.mark.parametrize("name", list(COLLECTORS))
def test_the_collector_stack_is_created_then_updated(collectors, name):
    collector = collectors[name]
    create, update = collector.steps
    assert (create["status"], update["status"]) == ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    check_resources(collector, create)
    check_resources(collector, update, before=create)
    assert create["parameters"]["DeliveryMode"] == update["parameters"]["DeliveryMode"] == collector.mode
    changed = {k for k in create["parameters"] if create["parameters"][k] != update["parameters"][k]}
    given = set(collector.calls["update"][1])
    assert changed and changed <= given, "only what the update gave changed; the rest kept its value"
    assert update["parameters"]["ImageUri"] == create["parameters"]["ImageUri"]
    types = {collector.original["Resources"][n]["Type"] for n in update["active"]}
    for kind in ("AWS::Events::EventBus", "AWS::Events::Rule", "AWS::SNS::Topic", "AWS::Lambda::Function", "AWS::SQS::Queue"):
        assert kind in types
    outputs = update["outputs"]
    assert outputs["EventBusArn"] == f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/{collector.project}-collector"
    assert collector.account.client("events").describe_event_bus(Name=outputs["EventBusArn"].split("/")[-1])["Arn"] == outputs["EventBusArn"]


def test_the_organization_feed_rule_follows_the_parameter(collectors):
    events = collectors["direct"].account.client("events")
    on_default_bus = {r["Name"] for r in events.list_rules(EventBusName="default")["Rules"]}
    direct, queue = collectors["direct"], collectors["queue"]
    for collector, before, after in ((direct, False, True), (queue, True, False)):
        rules = [n for n in collector.original["Resources"] if collector.original["Resources"][n]["Type"] == "AWS::Events::Rule"]
        feed = [n for n in rules if "EventBusName" not in collector.original["Resources"][n]["Properties"]]
        assert feed, "a rule on the account's default bus takes the organization feed"
        for name in feed:
            assert (name in collector.steps[0]["active"], name in collector.steps[1]["active"]) == (before, after)
            # Turned on: created. Turned off: left, MOTO_DEVIATIONS["update-keeps-false-condition"].
            assert name in collector.steps[1]["created"]
            assert collector.steps[1]["created"][name]["PhysicalResourceId"] in on_default_bus
            # Its target was the stack's topic (now the rule's tap: DELIVERY_STAND_INS).
            assert collector.taps[name]["topic"] == collector.last["outputs"]["TopicArn"]


def test_the_deployed_function_is_configured_as_the_template_says_where_moto_keeps_it(collectors):
    for collector in collectors.values():
        (name,) = collector.of_type("AWS::Lambda::Function")
        wanted = collector.last["resolved"][name]
        config = collector.account.client("lambda").get_function_configuration(FunctionName=collector.last["outputs"]["FunctionName"])
        assert config["Environment"]["Variables"] == wanted["Environment"]["Variables"], "the environment the template resolves"
        assert (config["Timeout"], config["MemorySize"], config["Role"].split("/")[-1]) == (
            wanted["Timeout"],
            wanted["MemorySize"],
            collector.last["created"][wanted_role(collector)]["PhysicalResourceId"],
        )
        # MOTO_DEVIATIONS["function-configuration"]: the template asks for an arm64 image.
        assert (wanted["PackageType"], wanted["Architectures"]) == ("Image", ["arm64"])
        assert (config["PackageType"], config["Architectures"]) == ("Zip", ["x86_64"])


def wanted_role(collector):
    """The function's role (its Role is the role's Arn)."""
    (function,) = collector.of_type("AWS::Lambda::Function")
    name, attribute = collector.original["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"]
    assert attribute == "Arn" and name in collector.of_type("AWS::IAM::Role")
    return name


def test_moto_cannot_keep_a_defaulted_parameter_with_use_previous_value(collectors):
    direct = collectors["direct"]
    (defaulted, *_) = [k for k in direct.original["Parameters"] if k not in direct.given_at_creation]
    parameters = [{"ParameterKey": k, "UsePreviousValue": True} for k in (*direct.given_at_creation, defaulted)]
    with pytest.raises(botocore.parsers.ResponseParserError, match="500 Internal Server Error"):
        direct.cf.update_stack(StackName=direct.name, TemplateBody=direct.body, Parameters=parameters, Capabilities=["CAPABILITY_IAM"])
    assert direct.describe()["StackStatus"] == "UPDATE_COMPLETE"  # MOTO_DEVIATIONS["use-previous-value"]


def test_moto_leaves_out_a_reference_to_a_secret_it_did_not_create(collectors):
    direct = collectors["direct"]
    create, update = direct.steps
    (secret,) = [n for n in create["active"] if direct.original["Resources"][n]["Type"] == "AWS::SecretsManager::Secret"]
    assert create["parameters"]["WebhookSecretArn"] == "" and secret not in update["active"]
    assert secret not in create["created"]  # NOT_CREATED["AWS::SecretsManager::Secret"]
    (function,) = direct.of_type("AWS::Lambda::Function")
    assert "DELIBIRD_WEBHOOK_SECRET" not in create["resolved"][function]["Environment"]["Variables"]
    assert update["resolved"][function]["Environment"]["Variables"]["DELIBIRD_WEBHOOK_SECRET"] == direct.world.secret


def test_an_update_that_changes_a_condition_keeps_moto_s_old_key_policy(collectors):
    direct = collectors["direct"]
    (key,) = direct.of_type("AWS::KMS::Key")
    before, after = (step["resolved"][key]["KeyPolicy"] for step in direct.steps)
    assert before != after, "turning the organization feed on adds its rule to the key policy"
    held = direct.account.client("kms").get_key_policy(KeyId=direct.last["created"][key]["PhysicalResourceId"], PolicyName="default")
    held = held["Policy"] if isinstance(held["Policy"], dict) else json.loads(held["Policy"])
    assert held == before  # MOTO_DEVIATIONS["update-keeps-if-values"]
    # MOTO_DEVIATIONS["no-value-in-list"]: the tick role's statement, reminders and digest being off.
    assert held["Statement"].count(None) == 1
    assert len(key_policy(direct.account, direct.last["created"][key]["PhysicalResourceId"])["Statement"]) == len(held["Statement"]) - 1


def test_the_forwarder_stack_is_created_then_updated_to_another_collector_bus(forwarder, collectors):
    direct_bus, queue_bus = (collectors[m].last["outputs"]["EventBusArn"] for m in ("direct", "queue"))
    forwarder.forward_to(queue_bus)
    forwarder.forward_to(direct_bus)
    assert [(s["step"], s["status"]) for s in forwarder.steps[:3]] == [
        ("create", "CREATE_COMPLETE"),
        ("update", "UPDATE_COMPLETE"),
        ("update", "UPDATE_COMPLETE"),
    ]
    for record, bus in zip(forwarder.steps[:3], (direct_bus, queue_bus, direct_bus)):
        check_resources(forwarder, record)
        assert record["parameters"]["CollectorEventBusArn"] == bus
    forwarder.forward_to(queue_bus)
    # MOTO_DEVIATIONS["update-keeps-role-policies"]: the role still grants the bus it was created for.
    assert_forwarder_reaches(forwarder, queue_bus, role_grants=forwarder.steps[0]["parameters"]["CollectorEventBusArn"])


def test_the_forwarder_role_may_put_on_the_bus_its_rule_targets(world, collectors):
    """A forwarder as first created (an update does not change its role in moto)."""
    forwarder = Forwarder(world, world.member.in_region("us-east-1"))
    bus = collectors["queue"].last["outputs"]["EventBusArn"]
    assert forwarder.forward_to(bus)["status"] == "CREATE_COMPLETE"
    check_resources(forwarder, forwarder.last)
    assert_forwarder_reaches(forwarder, bus, role_grants=bus)


def assert_forwarder_reaches(forwarder, bus, role_grants):
    """The forwarder's rule targets `bus` with its role, the role may put events on `role_grants`
    and on no other bus, and it trusts EventBridge for that rule alone (policy.py)."""
    events, iam = forwarder.account.client("events"), forwarder.account.client("iam")
    (rule_name,) = forwarder.of_type("AWS::Events::Rule")
    rule = events.describe_rule(Name=forwarder.last["created"][rule_name]["PhysicalResourceId"])
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == bus
    role_name = target["RoleArn"].split("/")[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    context = {"aws:SourceArn": rule["Arn"], "aws:SourceAccount": forwarder.account.id}
    assert decide(trust, action="sts:AssumeRole", resource="*", service="events.amazonaws.com", context=context) == "Allow"
    other = {**context, "aws:SourceArn": rule["Arn"] + "-other"}
    assert decide(trust, action="sts:AssumeRole", resource="*", service="events.amazonaws.com", context=other) == "ImplicitDeny"
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    documents = []
    for name in names:
        held = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        assert isinstance(held, str) and held.startswith("{'")  # MOTO_DEVIATIONS["role-policy-repr"]
        documents.append(ast.literal_eval(held))
    assert documents
    for granted in (role_grants, bus.replace(bus.split("/")[-1], "another-bus")):
        decisions = {decide(d, action="events:PutEvents", resource=granted) for d in documents}
        assert ("Allow" in decisions) == (granted == role_grants), (granted, decisions)
    # What EventBridge cannot put on the bus goes to the forwarder's own dead-letter queue, in the
    # member account, which admits that rule alone (its policy applied by the test: NOT_CREATED).
    sqs = forwarder.account.client("sqs")
    url = forwarder.last["outputs"]["DeadLetterQueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy", "MessageRetentionPeriod"])["Attributes"]
    assert target["DeadLetterConfig"] == {"Arn": attributes["QueueArn"]} and attributes["QueueArn"].split(":")[4] == forwarder.account.id
    assert "RetryPolicy" not in target, "EventBridge takes no retry policy for an event bus target"
    assert attributes["MessageRetentionPeriod"] == "1209600"
    ask = {"action": "sqs:SendMessage", "resource": attributes["QueueArn"], "service": "events.amazonaws.com"}
    over_tls = {"aws:SourceArn": rule["Arn"], "aws:SecureTransport": "true"}
    assert decide(attributes["Policy"], **ask, context=over_tls) == "Allow"
    assert decide(attributes["Policy"], **ask, context={**over_tls, "aws:SourceArn": rule["Arn"] + "-other"}) == "ImplicitDeny"
    assert decide(attributes["Policy"], **ask, context={**over_tls, "aws:SecureTransport": "false"}) == "Deny"


# --- What the new template parameters build: the tick schedule and its role, the dedup table's
# index, rules in SSM, the card settings, several organizations, the alarms.


TICK_INPUT = '{"delibird": "tick", "scheduledTime": "<aws.scheduler.scheduled-time>"}'
# What each collector's schedule runs on, and what its function is told (after its update;
# direct has none).
TICKS = {
    "queue": {"expression": "rate(15 minutes)", "reminders": "7d,1d,1h", "digest": "09:00", "zone": "UTC"},
    "rules": {"expression": "cron(0/10 * * * ? *)", "reminders": "2d,4h", "digest": "", "zone": "Europe/Berlin"},
}


def function_configuration(collector):
    return collector.account.client("lambda").get_function_configuration(FunctionName=collector.last["outputs"]["FunctionName"])


def role_policies(stack, role):
    """The policy documents of one of the stack's roles, by name: its own (the role's Policies,
    which moto's CloudFormation made) and those the test applied (AWS::IAM::RolePolicy,
    NOT_CREATED), each read as CloudFormation would have made it."""
    iam = stack.account.client("iam")
    role_name = stack.last["created"][role]["PhysicalResourceId"]
    own = {p["PolicyName"] for p in stack.original["Resources"][role]["Properties"].get("Policies", [])}
    documents = {}
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        held = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        if name in own:
            assert isinstance(held, str) and held.startswith("{'")  # MOTO_DEVIATIONS["role-policy-repr"]
            held = ast.literal_eval(held)
        documents[name] = without_no_value(held if isinstance(held, dict) else json.loads(held))
    return documents


def allowed(documents, action, resource, context=None):
    """Whether a role with these identity policies may do `action` on `resource`."""
    decisions = {decide(d, action=action, resource=resource, context=context) for d in documents.values()}
    return "Allow" in decisions and "Deny" not in decisions


def tick_role(collector):
    (role,) = [n for n in collector.of_type("AWS::IAM::Role") if n != wanted_role(collector)]
    return role


def dead_letter_queue_arn(collector):
    sqs = collector.account.client("sqs")
    return sqs.get_queue_attributes(QueueUrl=collector.last["outputs"]["DeadLetterQueueUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.mark.parametrize("name", ["queue", "rules"])
def test_the_tick_schedule_invokes_the_function_with_the_tick_as_its_role(collectors, name):
    """The schedule as deployed (NOT_CREATED["AWS::Scheduler::Schedule"]: moto never fires it):
    the function, the tick input, the role, the retries and the dead-letter queue."""
    collector, wanted = collectors[name], TICKS[name]
    config = function_configuration(collector)
    role = collector.account.client("iam").get_role(RoleName=collector.last["created"][tick_role(collector)]["PhysicalResourceId"])["Role"]
    schedule = collector.account.client("scheduler").get_schedule(Name=f"{collector.project}-tick")
    assert schedule["Arn"] == f"arn:aws:scheduler:{REGION}:{DEFAULT_ACCOUNT}:schedule/default/{collector.project}-tick"
    assert (schedule["ScheduleExpression"], schedule["State"], schedule["FlexibleTimeWindow"]) == (wanted["expression"], "ENABLED", {"Mode": "OFF"})
    assert schedule["Target"] == {
        "Arn": config["FunctionArn"],
        "RoleArn": role["Arn"],
        "Input": TICK_INPUT,
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 900},
        "DeadLetterConfig": {"Arn": dead_letter_queue_arn(collector)},
    }
    assert json.loads(schedule["Target"]["Input"]) == {"delibird": "tick", "scheduledTime": "<aws.scheduler.scheduled-time>"}
    variables = config["Environment"]["Variables"]
    told = (variables["DELIBIRD_REMINDERS"], variables["DELIBIRD_DIGEST_AT"], variables["DELIBIRD_DIGEST_TZ"])
    assert told == (wanted["reminders"], wanted["digest"], wanted["zone"])
    # Scheduler invokes asynchronously: the function's retries are stated (applied: NOT_CREATED).
    invoke_config = collector.account.client("lambda").get_function_event_invoke_config(FunctionName=config["FunctionName"], Qualifier="$LATEST")
    assert (invoke_config["MaximumRetryAttempts"], invoke_config["MaximumEventAgeInSeconds"]) == (2, 21600)
    if name == "rules":
        (tick,) = collector.of_type("AWS::Scheduler::Schedule")
        assert collector.steps[0]["resolved"][tick]["ScheduleExpression"] == "rate(5 minutes)", "created so, then updated"


def test_without_reminders_or_digest_there_is_no_schedule(collectors):
    direct = collectors["direct"]
    assert not direct.of_type("AWS::Scheduler::Schedule") and direct.of_type("AWS::IAM::Role") == [wanted_role(direct)]
    scheduler = direct.account.client("scheduler")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=f"{direct.project}-tick")
    variables = function_configuration(direct)["Environment"]["Variables"]
    assert (variables["DELIBIRD_REMINDERS"], variables["DELIBIRD_DIGEST_AT"]) == ("", "")


@pytest.mark.parametrize("name", ["queue", "rules"])
def test_the_tick_role_may_only_invoke_the_function_and_park_ticks(collectors, name):
    """The role's trust (Scheduler, for the stack's schedule, as the template writes it) and
    policy (invoking the function, nothing else), the dead-letter queue's and the key's policies
    (the role may park ticks, through SQS) — evaluated with policy.py on what moto holds."""
    collector = collectors[name]
    account = collector.account.id
    role = collector.account.client("iam").get_role(RoleName=collector.last["created"][tick_role(collector)]["PhysicalResourceId"])["Role"]
    schedule = collector.account.client("scheduler").get_schedule(Name=f"{collector.project}-tick")
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    ask = {"action": "sts:AssumeRole", "resource": "*", "service": "scheduler.amazonaws.com"}
    # Scheduler presents the schedule's group as the source (its confused-deputy guide).
    group = collector.account.client("scheduler").get_schedule_group(Name=schedule.get("GroupName", "default"))["Arn"]
    context = {"aws:SourceArn": group, "aws:SourceAccount": account}
    assert decide(trust, **ask, context=context) == "Allow"
    assert decide(trust, **ask, context={**context, "aws:SourceArn": group + "-other"}) == "ImplicitDeny"
    assert decide(trust, **ask, context={**context, "aws:SourceAccount": OUTSIDER}) == "ImplicitDeny"
    assert decide(trust, **{**ask, "service": "events.amazonaws.com"}, context=context) == "ImplicitDeny"

    documents = role_policies(collector, tick_role(collector))
    function = function_configuration(collector)["FunctionArn"]
    assert allowed(documents, "lambda:InvokeFunction", function)
    assert not allowed(documents, "lambda:InvokeFunction", function.replace(f":function:{collector.project}", ":function:another"))
    statements = [s for d in documents.values() for s in d["Statement"]]
    assert {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} == {"lambda:InvokeFunction"}

    sqs = collector.account.client("sqs")
    queue = dead_letter_queue_arn(collector)
    attributes = sqs.get_queue_attributes(QueueUrl=collector.last["outputs"]["DeadLetterQueueUrl"], AttributeNames=["Policy", "KmsMasterKeyId"])["Attributes"]
    park = {"action": "sqs:SendMessage", "resource": queue, "context": {"aws:SecureTransport": "true"}}
    assert decide(attributes["Policy"], **park, principal=role["Arn"]) == "Allow"
    assert decide(attributes["Policy"], **park, principal=role["Arn"].replace(role["RoleName"], "another-role")) == "ImplicitDeny"
    assert decide(attributes["Policy"], **{**park, "context": {"aws:SecureTransport": "false"}}, principal=role["Arn"]) == "Deny"
    key = key_policy(collector.account, attributes["KmsMasterKeyId"])
    through_sqs = {"kms:ViaService": f"sqs.{REGION}.amazonaws.com", "kms:CallerAccount": account}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert decide(key, action=action, resource="*", principal=role["Arn"], context=through_sqs) == "Allow"
        assert decide(key, action=action, resource="*", principal=role["Arn"], context={"kms:CallerAccount": account}) == "ImplicitDeny"


def test_the_tick_role_trusts_scheduler_as_scheduler_presents_itself(collectors):
    collector = collectors["queue"]
    role = collector.account.client("iam").get_role(RoleName=collector.last["created"][tick_role(collector)]["PhysicalResourceId"])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    group = collector.account.client("scheduler").get_schedule_group(Name="default")["Arn"]
    assert group == f"arn:aws:scheduler:{REGION}:{DEFAULT_ACCOUNT}:schedule-group/default"
    context = {"aws:SourceArn": group, "aws:SourceAccount": collector.account.id}
    assert decide(trust, action="sts:AssumeRole", resource="*", service="scheduler.amazonaws.com", context=context) == "Allow"


def test_the_dedup_table_has_the_by_kind_index_the_function_may_query(collectors):
    for collector in collectors.values():
        (table,) = collector.of_type("AWS::DynamoDB::Table")
        name = collector.last["created"][table]["PhysicalResourceId"]
        description = collector.account.client("dynamodb").describe_table(TableName=name)["Table"]
        assert description["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        (index,) = description["GlobalSecondaryIndexes"]
        key_schema = [{"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}]
        assert (index["IndexName"], index["KeySchema"], index["Projection"]) == ("by-kind", key_schema, {"ProjectionType": "ALL"})
        assert "IndexArn" not in index  # MOTO_DEVIATIONS["no-index-arn"]: AWS's form, then
        index_arn = f"{description['TableArn']}/index/by-kind"
        assert function_configuration(collector)["Environment"]["Variables"]["DELIBIRD_DEDUP_TABLE"] == name
        documents = role_policies(collector, wanted_role(collector))
        assert allowed(documents, "dynamodb:Query", index_arn)
        assert not allowed(documents, "dynamodb:Query", description["TableArn"])
        assert not allowed(documents, "dynamodb:Query", f"{description['TableArn']}/index/another")
        for action in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DescribeTable"):
            assert allowed(documents, action, description["TableArn"])


def test_the_rules_collector_reads_its_rules_from_ssm_and_may_read_that_parameter_only(collectors):
    collector = collectors["rules"]
    parameter = f"/{collector.project}/rules"
    assert [s["parameters"]["RulesParameterName"] for s in collector.steps] == [parameter] * 2
    assert [s["parameters"]["RulesVersion"] for s in collector.steps] == ["rules@1", "rules@2"]
    stored = collector.account.client("ssm").get_parameter(Name=parameter)["Parameter"]
    assert (stored["Type"], stored["Value"], stored["Version"]) == ("String", RULES_AMENDED, 2), "as deploy-collector uploaded them"
    config = function_configuration(collector)
    assert config["Environment"]["Variables"]["DELIBIRD_RULES"] == f"ssm:{parameter}"
    assert "DELIBIRD_WEBHOOK_SECRET" not in config["Environment"]["Variables"], "rules alone name every webhook"
    # A new version changes the function's configuration, so Lambda starts environments that read it.
    assert config["Description"] == f"AWS Health events to Google Chat cards (delibird); rules {parameter} rules@2"

    documents = role_policies(collector, wanted_role(collector))
    arn = stored["ARN"]
    assert arn == f"arn:aws:ssm:{REGION}:{DEFAULT_ACCOUNT}:parameter{parameter}"
    assert allowed(documents, "ssm:GetParameter", arn)
    for other in (f"{arn}-old", f"{arn}/more", arn.replace(collector.project, "delibird"), arn.replace(REGION, "us-east-1"),
                  arn.replace("/rules", "/settings")):
        assert not allowed(documents, "ssm:GetParameter", other), other
    # The rules' own webhooks, under /CODE/webhooks/ (deploy-collector --rule-webhook), and no other.
    assert allowed(documents, "ssm:GetParameter", arn.replace("/rules", "/webhooks/oncall"))
    assert not allowed(documents, "ssm:GetParameter", arn.replace(f"/{collector.project}/rules", "/delibird/webhooks/oncall"))
    for action in ("ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter"):
        assert not allowed(documents, action, arn), action
    # Without rules, no parameter at all.
    for other in (collectors["direct"], collectors["queue"]):
        assert "DELIBIRD_RULES" not in function_configuration(other)["Environment"]["Variables"]
        assert not allowed(role_policies(other, wanted_role(other)), "ssm:GetParameter", arn.replace(collector.project, other.project))


def test_the_card_settings_and_organizations_reach_the_function_and_the_bus(world, collectors):
    settings = ("DELIBIRD_ROLLUP", "DELIBIRD_ACCOUNT_LOOKUP", "DELIBIRD_ACCOUNT_TAGS", "DELIBIRD_ACCOUNT_OU", "DELIBIRD_LANGUAGE",
                "DELIBIRD_SEVERITY_CRITICAL_KEYWORDS", "DELIBIRD_SEVERITY_HIGH_KEYWORDS", "DELIBIRD_SEVERITY_WARNING_KEYWORDS")
    told = {name: {k: v for k, v in function_configuration(c)["Environment"]["Variables"].items() if k in settings} for name, c in collectors.items()}
    assert told["queue"] == {"DELIBIRD_ROLLUP": "1", "DELIBIRD_ACCOUNT_LOOKUP": "static", "DELIBIRD_ACCOUNT_OU": "1", "DELIBIRD_LANGUAGE": "en_US"}
    assert told["rules"] == {
        "DELIBIRD_ROLLUP": "0",
        "DELIBIRD_ACCOUNT_LOOKUP": "static",
        "DELIBIRD_ACCOUNT_TAGS": "Owner,Team",
        "DELIBIRD_ACCOUNT_OU": "0",
        "DELIBIRD_LANGUAGE": "ja_JP",
        "DELIBIRD_SEVERITY_CRITICAL_KEYWORDS": "BREACH,RANSOM",
    }
    # Several organizations: the bus admits principals of each.
    rules = collectors["rules"]
    bus = rules.last["outputs"]["EventBusArn"]
    policy = json.loads(rules.account.client("events").describe_event_bus(Name=bus.split("/")[-1])["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": [world.organization, SECOND_ORGANIZATION]}}
    for organization, decision in ((world.organization, "Allow"), (SECOND_ORGANIZATION, "Allow"), ("o-thirdorg0001", "ImplicitDeny")):
        context = {"aws:PrincipalOrgID": organization}
        assert decide(policy, action="events:PutEvents", resource=bus, account=world.member.id, context=context) == decision


def test_the_alarms_watch_the_function_s_metrics_and_the_dead_letters(collectors):
    for collector in collectors.values():
        project, function = collector.project, collector.last["outputs"]["FunctionName"]
        wanted = {
            f"{project}-errors": ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": function}]),
            f"{project}-dead-letters": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": f"{project}-dead-letters"}]),
            f"{project}-failed": ("delibird", "Failed", [{"Name": "FunctionName", "Value": function}]),
            f"{project}-store-unavailable": ("delibird", "StoreUnavailable", [{"Name": "FunctionName", "Value": function}]),
        }
        alarms = collector.account.client("cloudwatch").describe_alarms(AlarmNames=list(wanted))["MetricAlarms"]
        assert {a["AlarmName"]: (a["Namespace"], a["MetricName"], a["Dimensions"]) for a in alarms} == wanted
        for alarm in alarms:
            assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (1, "GreaterThanOrEqualToThreshold", "notBreaching")
            assert alarm["AlarmActions"] == [], "no AlarmTopicArn: alarms without actions"


# --- One event, end to end.


def health_event(fixture, account):
    """A fixture's Health event as AWS Health would put it on `account`'s bus."""
    event = json.loads((ROOT / "tests/fixtures/health-events" / fixture).read_text())
    detail = copy.deepcopy(event["detail"])
    detail["affectedAccount"] = account.id
    detail["eventRegion"] = REGION
    entry = {
        "Source": "aws.health",
        "DetailType": event["detail-type"],
        "Detail": json.dumps(detail),
        "Resources": [f"arn:aws:ec2:{REGION}:{account.id}:instance/i-0123456789abcdef0"],
    }
    return entry, detail


def put_on_default_bus(account, entry):
    answer = account.client("events").put_events(Entries=[entry])
    assert answer["FailedEntryCount"] == 0, answer
    return answer["Entries"][0]["EventId"]


def bus_policy_decision(world, collector, account):
    """Whether the collector bus's policy (as the emulator holds it) lets `account` put events."""
    bus = collector.last["outputs"]["EventBusArn"]
    policy = collector.account.client("events").describe_event_bus(Name=bus.split("/")[-1])["Policy"]
    organization = world.organization_of(account)
    context = {"aws:PrincipalOrgID": organization} if organization else {}
    return decide(policy, action="events:PutEvents", resource=bus, account=account.id, context={**context, "aws:PrincipalAccount": account.id})


def sns_lambda_event(notification, subscription_arn):
    """The event Lambda hands a function for one SNS notification."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": notification["Type"],
                    "MessageId": notification["MessageId"],
                    "TopicArn": notification["TopicArn"],
                    "Subject": notification.get("Subject"),
                    "Message": notification["Message"],
                    "Timestamp": notification["Timestamp"],
                    "SignatureVersion": notification["SignatureVersion"],
                    "Signature": notification["Signature"],
                    "SigningCertUrl": notification["SigningCertURL"],
                    "UnsubscribeUrl": notification["UnsubscribeURL"],
                    "MessageAttributes": notification.get("MessageAttributes", {}),
                },
            }
        ]
    }


def sqs_lambda_event(messages, queue_arn, region):
    """The event Lambda's SQS poller hands a function for one batch."""

    def attributes(message):
        return {
            name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
            for name, value in message.get("MessageAttributes", {}).items()
        }

    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": attributes(m),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def rendered(event, directory):
    """What `delibird render` makes of a Lambda event: its first card's body."""
    path = directory / "lambda-event.json"
    path.write_text(json.dumps(event))
    result = subprocess.run([executable(DELIBIRD_CLI, "delibird"), "render", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, redact(result.stderr)
    return json.loads(result.stdout.splitlines()[0])


def run_function(world, collector, event, directory, invocations=2):
    """The real bootstrap, with the function's environment as the emulator holds it and its role's
    credentials, handed `event` `invocations` times (Lambda delivers at least once), posting to a
    fresh Chat emulator whose URL the test puts in the webhook secret. Returns the replies, what
    the emulator accepted, the emulator and what bootstrap printed."""
    lam = collector.account.client("lambda")
    config = lam.get_function_configuration(FunctionName=collector.last["outputs"]["FunctionName"])
    role = collector.account.assume(config["Role"])
    chat = ChatEmulator(directory)
    api = bootstrap = None
    try:
        secret = config["Environment"]["Variables"]["DELIBIRD_WEBHOOK_SECRET"]
        collector.account.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=json.dumps({"url": chat.webhook_url}))
        environment = {
            **config["Environment"]["Variables"],
            **role.environment(),
            "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "AWS_LAMBDA_FUNCTION_VERSION": config["Version"],
            "DELIBIRD_ALLOW_LOOPBACK_WEBHOOK": "1",
        }
        api = RuntimeApi(config["FunctionArn"], config["Timeout"])
        bootstrap = Bootstrap(api, environment, directory / "bootstrap.log")
        replies = []
        for number in range(1, invocations + 1):
            api.invoke(f"request-{number}", event)
            replies.append(api.reply(f"request-{number}", 60, bootstrap.process))
        received = chat.received()
    finally:
        for closing in (bootstrap, api, chat):
            if closing:
                closing.close()
    printed = bootstrap.printed()
    assert not api.init_errors, redact(printed)
    return replies, received, chat, printed


def invocation_summaries(printed):
    lines = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    return [{k: line[k] for k in ("records", "posted", "duplicates", "failed")} for line in lines if line.get("message") == "invocation done"]


def assert_one_card(received, chat, printed, event_arn, account, title):
    messages = received["messages"]
    assert len(messages) == 1, f"{len(messages)} cards:\n{redact(printed)}"
    (message,) = messages
    # Roll-ups are on (the template's default): an account-specific event's thread is the
    # event's, shared by every account it reaches (docs/storms.md); this account is its only one.
    assert message["body"]["thread"]["threadKey"] == f"health/{event_arn}"
    assert message["body"]["cardsV2"][0]["card"]["header"]["title"] == title
    assert received["requests"] == 1 and received["rateLimited"] == 0
    # Counted, not compared, so that a failure does not print the token either.
    leaked = sum(secret in printed for secret in (chat.token, chat.key))
    assert leaked == 0, "the webhook's key or token is in bootstrap's output"


def assert_arrived_as_moto_forwards(message, entry, detail, event_id):
    arrived = json.loads(message["Body"])
    assert (arrived["source"], arrived["detail-type"], arrived["detail"]) == (entry["Source"], entry["DetailType"], detail)
    assert arrived["region"] == REGION
    assert "account" not in arrived  # MOTO_DEVIATIONS["no-account"]
    assert arrived["resources"] == [] != entry["Resources"]  # MOTO_DEVIATIONS["forwarded-event"]
    assert arrived["id"] != event_id  # MOTO_DEVIATIONS["forwarded-event"]
    return arrived


def assert_rule_may_publish(collector, tap):
    """The topic's policy and the stack key's policy let EventBridge publish for this rule, and
    only over TLS (policy.py on the policies the emulator holds)."""
    sns, kms = collector.account.client("sns"), collector.account.client("kms")
    rule_arn = collector.account.client("events").describe_rule(Name=tap["rule"], EventBusName=tap["bus"])["Arn"]
    policy = sns.get_topic_attributes(TopicArn=tap["topic"])["Attributes"]["Policy"]
    over_tls = {"aws:SourceArn": rule_arn, "aws:SecureTransport": "true"}
    ask = {"action": "sns:Publish", "resource": tap["topic"], "service": "events.amazonaws.com"}
    assert decide(policy, **ask, context=over_tls) == "Allow"
    assert decide(policy, **ask, context={**over_tls, "aws:SecureTransport": "false"}) == "Deny"
    assert decide(policy, **ask, context={**over_tls, "aws:SourceArn": rule_arn + "-other"}) == "ImplicitDeny"
    key_arn = sns.get_topic_attributes(TopicArn=tap["topic"])["Attributes"]["KmsMasterKeyId"]
    key = key_policy(collector.account, key_arn)
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert decide(key, action=action, resource="*", service="events.amazonaws.com", context={"aws:SourceArn": rule_arn}) == "Allow"
    return rule_arn


def carry_to_the_function(collector, tap, arrived):
    """From the collector rule's tap to the event Lambda would hand the function."""
    sns, sqs, lam = (collector.account.client(s) for s in ("sns", "sqs", "lambda"))
    topic = tap["topic"]
    # DELIVERY_STAND_INS "collector rule → SNS topic": what EventBridge publishes is the event.
    sns.publish(TopicArn=topic, Message=json.dumps(arrived))
    account = collector.account.id
    if collector.mode == "direct":
        subscription = collector.taps["function-subscription"]
        policy = lam.get_policy(FunctionName=subscription["function"])["Policy"]
        context = {"aws:SourceArn": topic, "aws:SourceAccount": account}
        ask = {"action": "lambda:InvokeFunction", "resource": subscription["function"], "service": "sns.amazonaws.com"}
        assert decide(policy, **ask, context=context) == "Allow"
        assert decide(policy, **ask, context={**context, "aws:SourceArn": topic + "-other"}) == "ImplicitDeny"
        (message,) = receive(collector.account, subscription["url"], 1)
        return sns_lambda_event(json.loads(message["Body"]), subscription["subscription"]), None
    (mapping,) = lam.list_event_source_mappings(FunctionName=collector.last["outputs"]["FunctionName"])["EventSourceMappings"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = sqs.get_queue_url(QueueName=mapping["EventSourceArn"].split(":")[-1])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy", "KmsMasterKeyId", "RedrivePolicy"])["Attributes"]
    ask = {"action": "sqs:SendMessage", "resource": mapping["EventSourceArn"], "service": "sns.amazonaws.com"}
    assert decide(attributes["Policy"], **ask, context={"aws:SourceArn": topic, "aws:SecureTransport": "true"}) == "Allow"
    assert decide(attributes["Policy"], **ask, context={"aws:SourceArn": topic, "aws:SecureTransport": "false"}) == "Deny"
    key = key_policy(collector.account, attributes["KmsMasterKeyId"])
    assert decide(key, action="kms:GenerateDataKey", resource="*", service="sns.amazonaws.com", context={"aws:SourceArn": topic}) == "Allow"
    # The batching the template asks for (QueueBatchSize, QueueBatchingWindowSeconds: their defaults).
    (source,) = collector.of_type("AWS::Lambda::EventSourceMapping")
    wanted = collector.last["resolved"][source]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (wanted["BatchSize"], wanted["MaximumBatchingWindowInSeconds"]) == (100, 5)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": int(collector.last["parameters"]["ReservedConcurrency"])}
    (message,) = poll_batch(collector.account, queue, mapping)
    return sqs_lambda_event([message], mapping["EventSourceArn"], collector.account.region), queue


def poll_batch(account, url, mapping):
    """One batch as Lambda's SQS poller gathers it for the mapping: messages until its BatchSize,
    or until its MaximumBatchingWindowInSeconds has passed since the poll began (bounded by it)."""
    sqs = account.client("sqs")
    got = []
    deadline = time.monotonic() + mapping["MaximumBatchingWindowInSeconds"]
    while len(got) < mapping["BatchSize"] and (left := deadline - time.monotonic()) > 0:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(mapping["BatchSize"] - len(got), 10),
            WaitTimeSeconds=max(1, min(int(left), 20)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        got += answer.get("Messages", [])
    return got


def key_policy(account, key_id):
    """A key's policy as moto holds it, read as CloudFormation would have made it
    (without_no_value)."""
    held = account.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    return without_no_value(held if isinstance(held, dict) else json.loads(held))


@pytest.mark.parametrize(
    "mode, fixture, title",
    [
        ("direct", "awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json", "🟠 EC2 instance retirement scheduled"),
        ("queue", "awsdocs-account-specific-elb-api-issue.json", "🟠 Elastic Load Balancing API issue"),
    ],
)
def test_one_health_event_on_a_member_bus_becomes_one_card(world, collectors, forwarder, mode, fixture, title, tmp_path):
    collector = collectors[mode]
    record = forwarder.forward_to(collector.last["outputs"]["EventBusArn"])
    assert record["status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    collector.drain_taps()
    entry, detail = health_event(fixture, world.member)
    event_id = put_on_default_bus(world.member, entry)

    (rule,) = [n for n in collector.taps if n != "function-subscription" and "EventBusName" in collector.original["Resources"][n]["Properties"]]
    tap = collector.taps[rule]
    (message,) = receive(collector.account, tap["url"], 1)
    arrived = assert_arrived_as_moto_forwards(message, entry, detail, event_id)
    assert bus_policy_decision(world, collector, world.member) == "Allow"
    assert_rule_may_publish(collector, tap)

    event, queue = carry_to_the_function(collector, tap, arrived)
    expected = rendered(event, tmp_path)
    replies, received, chat, printed = run_function(world, collector, event, tmp_path)

    if mode == "direct":
        assert replies[0] == ("response", {"records": 1, "posted": 1, "degraded": 0, "duplicates": 0, "folded": 0, "failed": 0}), redact(printed)
        assert replies[1] == ("response", {"records": 1, "posted": 0, "degraded": 0, "duplicates": 1, "folded": 0, "failed": 0}), redact(printed)
    else:
        assert replies == [("response", {"batchItemFailures": []})] * 2, redact(printed)
        # What Lambda does with a batch none of whose messages was reported failed.
        sqs = collector.account.client("sqs")
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=event["Records"][0]["receiptHandle"])
        left = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        assert set(left["Attributes"].values()) == {"0"}
    assert invocation_summaries(printed) == [
        {"records": 1, "posted": 1, "duplicates": 0, "failed": 0},
        {"records": 1, "posted": 0, "duplicates": 1, "failed": 0},
    ], redact(printed)
    assert_one_card(received, chat, printed, detail["eventArn"], world.member.id, title)
    body = received["messages"][0]["body"]
    header = body["cardsV2"][0]["card"]["header"]
    # The header as `delibird render` shows it; the thread is the event's roll-up thread, where
    # `render` (one event, no roll-up) names the account's own.
    assert body["thread"] == {"threadKey": f"health/{detail['eventArn']}"}
    assert header == expected["cardsV2"][0]["card"]["header"], "as `delibird render` shows it"
    # The stack's dedup table remembers the thread the one update was posted to (and so caught
    # the repeat); beside it, the space's shared send slot.
    (dedup,) = collector.of_type("AWS::DynamoDB::Table")
    items = collector.account.client("dynamodb").scan(TableName=collector.last["created"][dedup]["PhysicalResourceId"])["Items"]
    threads = [item for item in items if item["id"]["S"].startswith("thread#")]
    assert len(threads) == 1, f"the stack's dedup table holds {len(threads)} threads: {items}"
    assert threads[0]["posted"] == {"N": "1"} and threads[0]["kind"] == {"S": "thread"}
    assert all(item["id"]["S"].startswith(("thread#", "pace#")) for item in items), items


def test_an_event_from_outside_the_organization_is_refused_by_the_bus_policy(world, collectors):
    collector = collectors["direct"]
    outsider = Forwarder(world, world.outsider)
    assert outsider.forward_to(collector.last["outputs"]["EventBusArn"])["status"] == "CREATE_COMPLETE"
    collector.drain_taps()
    entry, detail = health_event("awsdocs-public-ec2-operational-issue-af-south-1.json", world.outsider)
    put_on_default_bus(world.outsider, entry)
    (rule,) = [n for n in collector.taps if n != "function-subscription" and "EventBusName" in collector.original["Resources"][n]["Properties"]]
    # moto delivered it: it does not evaluate the bus policy (NOT_CREATED["AWS::Events::EventBusPolicy"]) …
    (message,) = receive(collector.account, collector.taps[rule]["url"], 1)
    assert json.loads(message["Body"])["detail"] == detail
    # … so the test does, with what moto's Organizations says of each account, and carries
    # nothing the policy refuses.
    assert world.organization_of(world.outsider) is None
    assert world.organization_of(world.member) == world.organization
    assert bus_policy_decision(world, collector, world.outsider) == "ImplicitDeny"
    assert bus_policy_decision(world, collector, world.member) == "Allow"
    assert bus_policy_decision(world, collector, world.collector) == "Allow"


# --- The deploy command itself, and templates broken on purpose.


def run_aws_cli(account, words, tmp_path):
    result = subprocess.run(
        [AWS_CLI, *words[1:]], cwd=tmp_path, env={"PATH": os.environ["PATH"], **account.environment()}, capture_output=True, text=True, timeout=120
    )
    return result


def test_the_deploy_command_deploy_collector_prints_creates_and_updates_the_stack(world, tmp_path):
    """`aws cloudformation deploy` (change sets), the call scripts/deploy-collector makes, with
    the template path swapped for the emulator's copy (without read-outs: no Outputs are read)
    and the private parameters file written where the call reads it, as the script writes it: a
    collector in the default (queue) mode created, then given a new image by scripts/roll-image's
    call."""
    region = "us-west-2"
    account = world.collector.in_region(region)
    body, _ = emulator_copy("collector.yaml", tmp_path, read_outs=False)

    def run(words, files):
        assert words[words.index("--template-file") + 1] == "templates/collector.yaml"
        words[words.index("--template-file") + 1] = str(body)
        (overrides,) = option(words, "--parameter-overrides")
        if overrides.startswith("file://"):
            path = tmp_path / overrides.removeprefix("file://")
            path.write_text(files[path.name])
            path.chmod(0o600)
            words[words.index(overrides)] = f"file://{path}"
        return run_aws_cli(account, words, tmp_path)

    def create(project, *args):
        image = f"{DEFAULT_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{project}:t1"
        options = ["--region", region, "--project", project, "--organization-id", world.organization, "--image-uri", image]
        dry_run = DryRun("deploy-collector", *options, "--webhook-secret-arn", world.secret, *args)
        return run(dry_run.call("cloudformation", "deploy"), dry_run.files)

    def roll(project):
        dry_run = DryRun("roll-image", "--region", region, "--project", project, "--tag", "t2", "--account", DEFAULT_ACCOUNT, mode="--dry-run-existing")
        words = dry_run.call("cloudformation", "deploy")
        assert option(words, "--parameter-overrides") == [f"ImageUri={DEFAULT_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{project}:t2"]
        return run(words, dry_run.files)

    statuses = []
    for deploy in (create, roll):
        result = deploy("delibird-cli")
        assert result.returncode == 0, redact(result.stderr)
        assert "Successfully created/updated stack - delibird-cli-collector" in result.stdout
        stack = account.client("cloudformation").describe_stacks(StackName="delibird-cli-collector")["Stacks"][0]
        statuses.append(stack["StackStatus"])
        assert "Outputs" not in stack  # MOTO_DEVIATIONS["change-set-outputs"]
    assert statuses == ["CREATE_COMPLETE", "UPDATE_COMPLETE"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["ImageUri"].endswith(":t2"), "the update's image"
    assert (parameters["DeliveryMode"], parameters["WebhookSecretArn"]) == ("queue", world.secret), "the rest kept its value"
    config = account.client("lambda").get_function_configuration(FunctionName="delibird-cli")
    assert config["Environment"]["Variables"]["DELIBIRD_WEBHOOK_SECRET"] == world.secret

    # MOTO_DEVIATIONS["update-resolves-false-condition"]: the same in direct mode.
    assert create("delibird-cli-direct", "--delivery-mode", "direct").returncode == 0
    result = roll("delibird-cli-direct")
    assert result.returncode != 0 and "Fn::GetAtt references undefined resource" in result.stderr, redact(result.stdout + result.stderr)


def _first_getatt_of(template, kind):
    types = {n: r["Type"] for n, r in template["Resources"].items()}
    found = []

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::GetAtt"} and types.get(node["Fn::GetAtt"][0]) == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({n: r for n, r in template["Resources"].items() if "Condition" not in r})
    assert found, f"no unconditional !GetAtt of an {kind} to break"
    return found[0]


# Each breaking function breaks a template (as cfn.load reads it) in place and returns the texts,
# any one of which, in the emulator's answer or log, says it refused for that reason.


def _break_getatt_attribute(template):
    node = _first_getatt_of(template, "AWS::SQS::Queue")
    node["Fn::GetAtt"] = [node["Fn::GetAtt"][0], "NoSuchAttribute"]
    return [f"resource {node['Fn::GetAtt'][0]} does not support attribute type NoSuchAttribute in Fn::GetAtt"]


def _break_getatt_resource(template):
    node = _first_getatt_of(template, "AWS::SQS::Queue")
    node["Fn::GetAtt"] = ["NoSuchResource", node["Fn::GetAtt"][1]]
    return ["Fn::GetAtt references undefined resource NoSuchResource"]


def _drop_property(kind, name):
    def breaking(template):
        (logical,) = [n for n, r in template["Resources"].items() if r["Type"] == kind and "Condition" not in r]
        del template["Resources"][logical]["Properties"][name]
        # moto reads the property with [name]: the KeyError fails the request (500), or, when a
        # GetAtt of the resource is what asked for it, is taken as the resource's absence.
        return [f"KeyError: '{name}'", f"Fn::GetAtt references undefined resource {logical}"]

    return breaking


def _drop_subscription_protocol(template):
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SNS::Subscription":
            del resource["Properties"]["Protocol"]


def _both_webhooks(parameters):
    parameters["WebhookUrl"] = CHAT_URL


def _unknown_delivery_mode(parameters):
    parameters["DeliveryMode"] = "sometimes"


# Breakages real CloudFormation refuses; moto refuses these too (the reason: in its answer, or,
# where it fails with an internal error, in its log).
REFUSED = {
    "a !GetAtt of an attribute the resource does not have": _break_getatt_attribute,
    "a !GetAtt of a resource the template does not have": _break_getatt_resource,
    "an AWS::Lambda::Function without its required Role": _drop_property("AWS::Lambda::Function", "Role"),
}
# Breakages real CloudFormation refuses and moto does not (MOTO_DEVIATIONS, NOT_CREATED).
NOT_REFUSED = {
    "an AWS::SNS::Subscription without its required Protocol (a type moto does not create)": (_drop_subscription_protocol, None),
    "both WebhookUrl and WebhookSecretArn (the template's Rules forbid it)": (None, _both_webhooks),
    "DeliveryMode outside its AllowedValues": (None, _unknown_delivery_mode),
}


def broken_stack(world, directory, number, break_template=None, break_parameters=None):
    """A collector stack (not yet created) from a copy of the template broken by
    `break_template`, with parameters broken by `break_parameters`; the reason the emulator
    should give; and the broken copy, unpatched, for cfn-lint."""
    broken = load("collector.yaml")
    reason = break_template(broken) if break_template else None
    lint_copy = directory / f"broken-{number}.json"
    lint_copy.write_text(json.dumps(broken))
    parameters = {
        "ProjectCode": f"broken-{number}",
        "OrganizationId": world.organization,
        "ImageUri": f"{DEFAULT_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/delibird:t1",
        "WebhookSecretArn": world.secret,
    }
    if break_parameters:
        break_parameters(parameters)
    account = world.collector.in_region("ap-southeast-2")
    body = json.dumps(patched(broken)[0])
    return Stack(account, f"broken-{number}-collector", load("collector.yaml"), body), parameters, reason, lint_copy


def moto_said(world, since, texts, answer=""):
    """Whether the answer, or moto's log after offset `since`, holds one of `texts` (moto logs the
    traceback of a 500 just after answering: it is waited for, briefly)."""
    deadline = time.monotonic() + 10
    while True:
        said = answer + world.moto.log_text()[since:]
        if any(text in said for text in texts):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_a_broken_template_fails_to_deploy(world, tmp_path):
    control = tmp_path / "unbroken.json"
    control.write_text(json.dumps(load("collector.yaml")))
    broken = []
    for number, (name, breaking) in enumerate(REFUSED.items(), start=1):
        stack, parameters, reason, path = broken_stack(world, tmp_path, number, breaking)
        log_before = len(world.moto.log_text())
        with pytest.raises((botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)) as refused:
            stack.create(parameters, ["CAPABILITY_IAM"])
        assert moto_said(world, log_before, reason, str(refused.value)), (
            f"{name}: refused, but not because {reason}:\n{redact(str(refused.value) + world.moto.log_text()[log_before:][-3000:])}"
        )
        broken.append(path)
    # Each is a breakage real CloudFormation refuses, as its linter says.
    lint = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--format", "parseable", str(control), *map(str, broken)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert str(control) not in lint.stdout, f"the unbroken copy does not lint clean:\n{lint.stdout}"
    for path in broken:
        assert re.search(rf"^{re.escape(str(path))}:\d+:\d+:\d+:\d+:E\d+:", lint.stdout, re.M), f"cfn-lint finds nothing wrong in {path.name}"
    for number, (name, (breaking, parameters_breaking)) in enumerate(NOT_REFUSED.items(), start=len(REFUSED) + 1):
        stack, parameters, _, _ = broken_stack(world, tmp_path, number, breaking, parameters_breaking)
        assert stack.create(parameters, ["CAPABILITY_IAM"])["status"] == "CREATE_COMPLETE", f"moto now refuses {name}: move it to REFUSED"


def test_the_hops_the_test_carries_are_ones_moto_does_not_carry(world):
    """DELIVERY_STAND_INS stay true: each hop tried in moto, on resources of its own, fails as
    the list says (moto answers 500 and logs why)."""
    region = "ca-central-1"
    account = world.collector.in_region(region)
    events, sns, sqs, lam, iam = (account.client(s) for s in ("events", "sns", "sqs", "lambda", "iam"))
    statement = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    role = iam.create_role(RoleName="emulator-hops", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    function = lam.create_function(
        FunctionName="emulator-hops",
        Role=role,
        PackageType="Image",
        Code={"ImageUri": f"{DEFAULT_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/delibird:t1"},
        Architectures=["arm64"],
    )["FunctionArn"]
    topic = sns.create_topic(Name="emulator-hops")["TopicArn"]
    queue = sqs.create_queue(QueueName="emulator-hops")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    entry = {"Source": "aws.health", "DetailType": "AWS Health Event", "Detail": json.dumps({"eventArn": "arn:aws:health:x"})}
    failed = (botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)
    # The last line of moto's traceback for each (so the whole traceback is in the log once it shows).
    no_sns_target = "NotImplementedError: Expr not defined for <class 'moto.events.models.Rule'>"
    no_image_function = "AttributeError: 'LambdaFunction' object has no attribute 'code_digest'"

    # PutEvents may claim the aws.health source.
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    def rule_to_topic():
        events.put_rule(Name="emulator-hops", EventPattern=json.dumps({"source": ["aws.health"]}))
        events.put_targets(Rule="emulator-hops", Targets=[{"Id": "topic", "Arn": topic}])

    def topic_to_function():
        events.remove_targets(Rule="emulator-hops", Ids=["topic"])
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)

    def queue_to_function():
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=function)

    tries = {
        "collector rule → SNS topic": (rule_to_topic, lambda: events.put_events(Entries=[entry]), no_sns_target),
        "SNS topic → Lambda (direct mode)": (topic_to_function, lambda: sns.publish(TopicArn=topic, Message="{}"), no_image_function),
        "SQS queue → Lambda (queue mode)": (queue_to_function, lambda: sqs.send_message(QueueUrl=queue, MessageBody="{}"), no_image_function),
        "Lambda runs the function": (lambda: None, lambda: lam.invoke(FunctionName=function, Payload=b"{}"), no_image_function),
    }
    assert set(tries) == {hop for hop, _, _ in DELIVERY_STAND_INS[1:]}
    for hop, (prepare, attempt, reason) in tries.items():
        prepare()
        since = len(world.moto.log_text())
        with pytest.raises(failed) as refused:
            attempt()
        assert moto_said(world, since, [reason], str(refused.value)), (
            f"{hop}: moto failed otherwise:\n{redact(world.moto.log_text()[since:][-3000:])}"
        )


# --- Deleting a collector: what it retains. Last, since it takes the rules collector away.


def _exists(account, kind, physical_id):
    """Whether a resource of `kind` named `physical_id` (its Ref) is still in the emulator."""
    probes = {
        "AWS::SQS::Queue": ("sqs", lambda c: c.get_queue_attributes(QueueUrl=physical_id), "AWS.SimpleQueueService.NonExistentQueue"),
        "AWS::DynamoDB::Table": ("dynamodb", lambda c: c.describe_table(TableName=physical_id), "ResourceNotFoundException"),
        "AWS::SNS::Topic": ("sns", lambda c: c.get_topic_attributes(TopicArn=physical_id), "NotFound"),
        "AWS::Lambda::Function": ("lambda", lambda c: c.get_function(FunctionName=physical_id), "ResourceNotFoundException"),
        "AWS::IAM::Role": ("iam", lambda c: c.get_role(RoleName=physical_id), "NoSuchEntity"),
    }
    if kind == "AWS::KMS::Key":  # MOTO_DEVIATIONS["describe-key"]: listed instead
        return physical_id in {k["KeyId"] for k in account.client("kms").list_keys()["Keys"]}
    if kind == "AWS::Logs::LogGroup":
        groups = account.client("logs").describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
        return physical_id in {g["logGroupName"] for g in groups}
    service, probe, missing = probes[kind]
    try:
        probe(account.client(service))
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == missing, error
        return False
    return True


def test_deleting_a_collector_keeps_what_it_retains(collectors):
    """DeletionPolicy Retain: the dead letters, the key that encrypts them, the dedup table and the
    log outlive the stack (the webhook secret too, which moto does not create: NOT_CREATED); the
    rest goes with it."""
    collector = collectors["rules"]
    resources = collector.original["Resources"]
    checked = {n for n in collector.last["created"] if resources[n]["Type"] in (
        "AWS::SQS::Queue", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::SNS::Topic", "AWS::Lambda::Function",
        "AWS::IAM::Role")}
    retained = {n for n in checked if resources[n].get("DeletionPolicy") == "Retain"}
    assert {resources[n]["Type"] for n in retained} == {"AWS::SQS::Queue", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup"}
    assert all(resources[n].get("UpdateReplacePolicy") == "Retain" for n in retained)
    physical = {n: collector.last["created"][n]["PhysicalResourceId"] for n in checked}
    (key,) = collector.of_type("AWS::KMS::Key")
    with pytest.raises(botocore.exceptions.ClientError, match=r"\(500\) when calling the DescribeKey"):
        collector.account.client("kms").describe_key(KeyId=physical[key])  # MOTO_DEVIATIONS["describe-key"]
    stack_id = collector.describe()["StackId"]
    collector.cf.delete_stack(StackName=stack_id)
    wait_for(lambda: collector.cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE", "the stack deleted", 60)
    left = {n for n in checked if _exists(collector.account, resources[n]["Type"], physical[n])}
    assert left == retained, f"left {sorted(left)}, retained {sorted(retained)}"
    # The rules parameter is deploy-collector's, not the stack's: it stays too.
    assert collector.account.client("ssm").get_parameter(Name=f"/{collector.project}/rules")["Parameter"]["Value"] == RULES_AMENDED
