"""The templates' wiring, read from the YAML itself: the rule reaches the topic, the topic reaches
the function (directly or through the queue), every failure path ends in the dead-letter queue,
the names the key policy trusts are the names the template gives, and the function's environment
names exactly what delibird reads (src/). Run by scripts/check-infra (pytest)."""

import pathlib
import re

import pytest

from cfn import ROOT, load

COLLECTOR = load("collector.yaml")
FORWARDER = load("forwarder.yaml")
RESOURCES = COLLECTOR["Resources"]


def ref(name):
    return {"Ref": name}


def arn(name):
    return {"Fn::GetAtt": [name, "Arn"]}


def sub(template):
    """A !Sub string with the names this stack gives its resources filled in."""
    assert "Fn::Sub" in template, template
    return template["Fn::Sub"]


def resource(name, kind):
    assert name in RESOURCES, f"{name} is missing"
    assert RESOURCES[name]["Type"] == kind, f"{name} is {RESOURCES[name]['Type']}, not {kind}"
    return RESOURCES[name]


def of_type(kind, template=COLLECTOR):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(document):
    return document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]


def read_by_delibird():
    """Every DELIBIRD_* variable name the crate's code (src/) mentions as a string."""
    names = set()
    for path in (ROOT / "src").rglob("*.rs"):
        names |= set(re.findall(r'"(DELIBIRD_[A-Z0-9_]+)"', path.read_text()))
    return names


# --- Event path: bus -> rule -> topic -> function.


def test_the_health_rule_on_the_collector_bus_targets_the_topic():
    rule = resource("HealthRule", "AWS::Events::Rule")["Properties"]
    assert rule["EventBusName"] == ref("EventBus")
    assert [t["Arn"] for t in rule["Targets"]] == [ref("Topic")]
    pattern = rule["EventPattern"]["$or"]
    assert {"source": ["aws.health"]} in pattern
    assert {"source": ["custom.health"], "account": [ref("AWS::AccountId")]} in pattern, (
        "test events (scripts/send-test-event) only from the collector's own account"
    )


def test_the_organization_feed_rule_is_on_the_default_bus_and_targets_the_topic():
    rule = resource("OrganizationHealthRule", "AWS::Events::Rule")
    assert rule["Condition"] == "OrganizationFeed"
    assert "EventBusName" not in rule["Properties"], "the Health organizational feed arrives on the default bus"
    assert rule["Properties"]["EventPattern"] == {"source": ["aws.health"]}
    assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [ref("Topic")]


def test_the_bus_accepts_events_only_from_the_organization():
    policy = resource("EventBusPolicy", "AWS::Events::EventBusPolicy")["Properties"]
    assert policy["EventBusName"] == ref("EventBus")
    statement = policy["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == arn("EventBus")
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ref("OrganizationId")}}


def test_the_topic_invokes_the_function_directly_in_direct_mode():
    subscription = resource("FunctionSubscription", "AWS::SNS::Subscription")
    assert subscription["Condition"] == "Direct"
    properties = subscription["Properties"]
    assert (properties["TopicArn"], properties["Protocol"], properties["Endpoint"]) == (
        ref("Topic"),
        "lambda",
        arn("Function"),
    )
    permission = resource("TopicInvokesFunction", "AWS::Lambda::Permission")
    assert permission["Condition"] == "Direct"
    assert permission["Properties"]["FunctionName"] == arn("Function")
    assert permission["Properties"]["Principal"] == "sns.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == ref("Topic")


def test_the_topic_reaches_the_function_through_the_queue_in_queue_mode():
    subscription = resource("QueueSubscription", "AWS::SNS::Subscription")
    assert subscription["Condition"] == "Queue"
    properties = subscription["Properties"]
    assert (properties["TopicArn"], properties["Protocol"], properties["Endpoint"]) == (
        ref("Topic"),
        "sqs",
        arn("DeliveryQueue"),
    )
    assert properties["RawMessageDelivery"] is False, "delibird reads the SNS notification in each SQS body"
    mapping = resource("QueueEventSource", "AWS::Lambda::EventSourceMapping")
    assert mapping["Condition"] == "Queue"
    assert mapping["Properties"]["EventSourceArn"] == arn("DeliveryQueue")
    assert mapping["Properties"]["FunctionName"] == ref("Function")
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    policy = resource("DeliveryQueuePolicy", "AWS::SQS::QueuePolicy")["Properties"]
    allow = [s for s in statements(policy["PolicyDocument"]) if s["Effect"] == "Allow"]
    assert allow == [
        {
            "Sid": "TopicDelivers",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn("DeliveryQueue"),
            "Condition": {"ArnEquals": {"aws:SourceArn": ref("Topic")}},
        }
    ]


def test_the_two_delivery_modes_are_exclusive_and_cover_every_value():
    conditions = COLLECTOR["Conditions"]
    assert conditions["Direct"] == {"Fn::Equals": [ref("DeliveryMode"), "direct"]}
    assert conditions["Queue"] == {"Fn::Equals": [ref("DeliveryMode"), "queue"]}
    assert COLLECTOR["Parameters"]["DeliveryMode"]["AllowedValues"] == ["direct", "queue"]


def test_the_topic_policy_lets_only_the_health_rules_publish():
    policy = resource("TopicPolicy", "AWS::SNS::TopicPolicy")["Properties"]
    assert policy["Topics"] == [ref("Topic")]
    (allow,) = [s for s in statements(policy["PolicyDocument"]) if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    sources = allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::If"]
    assert sources == ["OrganizationFeed", [arn("HealthRule"), arn("OrganizationHealthRule")], [arn("HealthRule")]]


# --- Every failure path ends in the dead-letter queue, which is watched.


def test_every_failure_path_ends_in_the_dead_letter_queue():
    dlq = arn("DeadLetterQueue")
    function = resource("Function", "AWS::Lambda::Function")["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": dlq}, "failed asynchronous invocations (direct mode)"
    queue = resource("DeliveryQueue", "AWS::SQS::Queue")["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == dlq, "messages past the receive limit (queue mode)"
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], "Lambda's advice for an event source queue"
    for rule in ("HealthRule", "OrganizationHealthRule"):
        for target in RESOURCES[rule]["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": dlq}, f"{rule}: events it cannot publish"
    assert RESOURCES["FunctionSubscription"]["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": dlq}
    alarm = resource("DeadLettersAlarm", "AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    errors = resource("ErrorsAlarm", "AWS::CloudWatch::Alarm")["Properties"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": ref("Function")}]


def test_the_dead_letter_queue_admits_the_rules_and_the_topic_only():
    policy = resource("DeadLetterQueuePolicy", "AWS::SQS::QueuePolicy")["Properties"]
    allow = {s["Principal"]["Service"]: s["Condition"] for s in statements(policy["PolicyDocument"]) if s["Effect"] == "Allow"}
    assert set(allow) == {"events.amazonaws.com", "sns.amazonaws.com"}
    assert allow["sns.amazonaws.com"] == {"ArnEquals": {"aws:SourceArn": ref("Topic")}}
    role = resource("FunctionRole", "AWS::IAM::Role")["Properties"]
    granted = [s for p in role["Policies"] for s in statements(p["PolicyDocument"]) if s["Resource"] == arn("DeadLetterQueue")]
    assert [s["Action"] for s in granted] == ["sqs:SendMessage"]


# --- The names the key policy trusts are the names the template gives.


def test_the_key_trusts_exactly_the_rules_topic_and_log_group_this_template_names():
    bus = sub(resource("EventBus", "AWS::Events::EventBus")["Properties"]["Name"])
    rule = sub(RESOURCES["HealthRule"]["Properties"]["Name"])
    org_rule = sub(RESOURCES["OrganizationHealthRule"]["Properties"]["Name"])
    topic = sub(RESOURCES["Topic"]["Properties"]["TopicName"])
    log_group = sub(RESOURCES["LogGroup"]["Properties"]["LogGroupName"])
    key = {s["Sid"]: s for s in resource("Key", "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]}

    events = key["HealthRulesPublishToTheEncryptedTopic"]["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::If"]
    prefix = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
    assert events[0] == "OrganizationFeed"
    assert [sub(a) for a in events[1]] == [f"{prefix}{bus}/{rule}", f"{prefix}{org_rule}"]
    assert [sub(a) for a in events[2]] == [f"{prefix}{bus}/{rule}"]

    sns = key["TopicDeliversToTheEncryptedQueues"]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sub(sns) == "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + topic

    logs = key["LogsEncryptTheFunctionLog"]["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sub(logs) == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + log_group


def test_everything_stored_is_encrypted_with_the_stack_key():
    key = ref("Key")
    assert RESOURCES["Topic"]["Properties"]["KmsMasterKeyId"] == key
    for queue in of_type("AWS::SQS::Queue"):
        assert RESOURCES[queue]["Properties"]["KmsMasterKeyId"] == key, queue
    assert RESOURCES["DedupTable"]["Properties"]["SSESpecification"]["KMSMasterKeyId"] == key
    assert RESOURCES["WebhookSecret"]["Properties"]["KmsKeyId"] == key
    assert RESOURCES["LogGroup"]["Properties"]["KmsKeyId"] == arn("Key")
    assert RESOURCES["Function"]["Properties"]["KmsKeyArn"] == arn("Key")


# --- The function: an arm64 image whose environment names what delibird reads.


def test_the_function_is_an_arm64_image_logging_to_its_group():
    function = resource("Function", "AWS::Lambda::Function")["Properties"]
    assert function["PackageType"] == "Image"
    assert function["Code"] == {"ImageUri": ref("ImageUri")}
    assert function["Architectures"] == ["arm64"]
    assert function["LoggingConfig"] == {"LogGroup": ref("LogGroup")}
    assert function["Role"] == arn("FunctionRole")


def test_the_function_environment_names_exactly_variables_delibird_reads():
    variables = RESOURCES["Function"]["Properties"]["Environment"]["Variables"]
    unknown = set(variables) - read_by_delibird()
    assert not unknown, f"the template sets variables delibird never reads: {sorted(unknown)}"
    assert "DELIBIRD_WEBHOOK_URL" not in variables, "the webhook reaches the function only as a secret"
    assert "DELIBIRD_ALLOW_LOOPBACK_WEBHOOK" not in variables


def test_the_function_environment_points_at_the_stack_resources():
    variables = RESOURCES["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["DELIBIRD_WEBHOOK_SECRET"] == {
        "Fn::If": ["CreateSecret", ref("WebhookSecret"), ref("WebhookSecretArn")]
    }
    assert variables["DELIBIRD_DEDUP_TABLE"] == {"Fn::If": ["Dedup", ref("DedupTable"), ref("AWS::NoValue")]}
    assert variables["DELIBIRD_ACCOUNT_ALIASES"] == {"Fn::If": ["HasAliases", ref("AccountAliases"), ref("AWS::NoValue")]}
    assert variables["DELIBIRD_ACCOUNT_LOOKUP"] == ref("AccountLookup")
    assert variables["DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN"] == {
        "Fn::If": ["HasLookupRole", ref("AccountLookupRoleArn"), ref("AWS::NoValue")]
    }


def test_the_secret_holds_the_webhook_in_a_form_delibird_reads():
    secret = resource("WebhookSecret", "AWS::SecretsManager::Secret")
    assert secret["Condition"] == "CreateSecret"
    assert secret["Properties"]["SecretString"] == {"Fn::Sub": '{"url": "${WebhookUrl}"}'}
    assert '"url"' in (ROOT / "src/secret.rs").read_text(), "src/secret.rs reads the url member of a JSON secret"
    parameter = COLLECTOR["Parameters"]["WebhookUrl"]
    assert parameter["NoEcho"] is True
    assert '"' not in parameter["AllowedPattern"] and "\\\\" not in parameter["AllowedPattern"]


def test_the_role_reads_only_its_secret_and_uses_only_its_key():
    role = resource("FunctionRole", "AWS::IAM::Role")["Properties"]
    trust = statements(role["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]
    granted = {s["Sid"]: s for p in role["Policies"] for s in statements(p["PolicyDocument"])}
    assert granted["ReadTheWebhookSecret"]["Action"] == "secretsmanager:GetSecretValue"
    assert granted["ReadTheWebhookSecret"]["Resource"] == {
        "Fn::If": ["CreateSecret", ref("WebhookSecret"), ref("WebhookSecretArn")]
    }
    assert granted["UseTheStackKey"]["Resource"] == arn("Key")
    assert granted["WriteItsLog"]["Resource"] == arn("LogGroup")


def dynamodb_calls():
    """The DynamoDB operations the dedup store makes, as IAM actions (put_item -> PutItem)."""
    source = (ROOT / "src/dedup/dynamo.rs").read_text()
    calls = set(re.findall(r"\.(\w+_item|query|scan|transact_\w+|batch_\w+)\(\)", source))
    return {"dynamodb:" + "".join(part.title() for part in call.split("_")) for call in calls}


def test_the_dedup_table_has_the_shape_and_permissions_the_store_uses():
    source = (ROOT / "src/dedup/dynamo.rs").read_text()
    table = resource("DedupTable", "AWS::DynamoDB::Table")
    assert table["Condition"] == "Dedup"
    properties = table["Properties"]
    (key,) = properties["KeySchema"]
    assert key["KeyType"] == "HASH"
    assert f'.key("{key["AttributeName"]}"' in source, "the store reads items by the table's partition key"
    ttl = properties["TimeToLiveSpecification"]
    assert ttl["Enabled"] is True and f'"{ttl["AttributeName"]}"' in source, "the store writes the TTL attribute"
    policy = resource("DedupPermissions", "AWS::IAM::RolePolicy")["Properties"]["PolicyDocument"]
    (statement,) = statements(policy)
    assert statement["Resource"] == arn("DedupTable")
    calls = dynamodb_calls()
    assert calls, "no DynamoDB call found in src/dedup/dynamo.rs"
    assert calls <= set(statement["Action"]), f"the role lacks {sorted(calls - set(statement['Action']))}"
    assert set(statement["Action"]) <= calls, f"the role grants calls the store never makes: {sorted(set(statement['Action']) - calls)}"


def test_organizations_lookups_get_exactly_the_calls_delibird_makes():
    lookup = ROOT / "src/accounts/organizations.rs"
    if not lookup.exists():
        pytest.skip("no AWS Organizations lookup in src/ yet")
    calls = set(re.findall(r"\.client\s*\.(\w+)\(\)", lookup.read_text()))
    actions = {"organizations:" + "".join(part.title() for part in call.split("_")) for call in calls}
    policy = resource("DirectLookupPermissions", "AWS::IAM::RolePolicy")["Properties"]["PolicyDocument"]
    granted = set()
    for statement in statements(policy):
        granted |= set([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    assert actions == granted, f"src calls {sorted(actions)}, the role grants {sorted(granted)}"
    role = resource("LookupPermissions", "AWS::IAM::RolePolicy")["Properties"]["PolicyDocument"]
    assert [s["Action"] for s in statements(role)] == ["sts:AssumeRole"]


# --- The forwarder, and how its parameter meets the collector's output.


def test_the_forwarder_sends_health_events_to_the_collector_bus_with_its_own_role():
    resources = FORWARDER["Resources"]
    rule = resources["ForwardRule"]["Properties"]
    assert "EventBusName" not in rule, "Health events arrive on each account's default bus"
    assert rule["EventPattern"] == {"source": ["aws.health"]}
    (target,) = rule["Targets"]
    assert target["Arn"] == ref("CollectorEventBusArn")
    assert target["RoleArn"] == arn("ForwardRole")
    role = resources["ForwardRole"]["Properties"]
    (grant,) = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])]
    assert (grant["Action"], grant["Resource"]) == ("events:PutEvents", ref("CollectorEventBusArn"))
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert sub(trust["Condition"]["ArnEquals"]["aws:SourceArn"]).endswith(":rule/" + sub(rule["Name"]))


def test_the_collector_output_fits_the_forwarder_parameter():
    output = COLLECTOR["Outputs"]["EventBusArn"]["Value"]
    assert output == arn("EventBus")
    pattern = FORWARDER["Parameters"]["CollectorEventBusArn"]["AllowedPattern"]
    name = sub(RESOURCES["EventBus"]["Properties"]["Name"]).replace("${ProjectCode}", "delibird")
    assert re.fullmatch(pattern, f"arn:aws:events:eu-west-1:111122223333:event-bus/{name}")


# --- Every checkov skip says why.


def test_every_checkov_skip_in_the_templates_is_justified():
    for template in (COLLECTOR, FORWARDER):
        for name, r in template["Resources"].items():
            for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", skip["id"]), (name, skip)
                assert len(skip.get("comment", "").split()) >= 8, f"{name}: skip {skip['id']} needs a reason"


def test_every_skip_in_the_dockerfile_is_justified():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#checkov:skip="):
            check, _, reason = line.removeprefix("#checkov:skip=").partition(":")
            assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", check) and len(reason.split()) >= 8, line
        if line.startswith("# hadolint ignore="):
            above = []
            for previous in reversed(lines[:number]):
                if not previous.startswith("#"):
                    break
                above.append(previous)
            assert len(" ".join(above).split()) >= 8, f"Dockerfile:{number + 1}: say why in the comment above the ignore"


def test_the_dockerfile_builds_with_the_script_ci_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "scripts/build-arm64 --out /bootstrap" in dockerfile
    assert re.search(r"^FROM --platform=\$BUILDPLATFORM ", dockerfile, re.M), "the compiler runs natively"
    assert 'ENTRYPOINT ["/bootstrap"]' in dockerfile
