"""The templates' wiring, read from the YAML itself: the rule reaches the topic, the topic reaches
the function (directly or through the queue), every failure path ends in the dead-letter queue,
the names the key policy trusts are the names the template gives, and the function's environment
names exactly what delibird reads (src/). Run by scripts/check-infra (pytest)."""

import json
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


# The variables the Lambda reads by its contract with these templates (issues 15-18), some of
# them before src/ has the code that reads them: the template may set these and no others.
CONTRACT = {
    "DELIBIRD_WEBHOOK_SECRET",
    "DELIBIRD_RULES",
    "DELIBIRD_DEDUP_TABLE",
    "DELIBIRD_ROLLUP",
    "DELIBIRD_REMINDERS",
    "DELIBIRD_DIGEST_AT",
    "DELIBIRD_DIGEST_TZ",
    "DELIBIRD_ACCOUNT_ALIASES",
    "DELIBIRD_ACCOUNT_LOOKUP",
    "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN",
    "DELIBIRD_ACCOUNT_TAGS",
    "DELIBIRD_ACCOUNT_OU",
    "DELIBIRD_LANGUAGE",
    "DELIBIRD_SEVERITY_CRITICAL_KEYWORDS",
    "DELIBIRD_SEVERITY_HIGH_KEYWORDS",
    "DELIBIRD_SEVERITY_WARNING_KEYWORDS",
}


def unwrap(items):
    """A list's items with each conditional one (Fn::If [condition, item, NoValue]) as
    (condition, item), and the others as (None, item)."""
    found = []
    for item in items:
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            condition, present, absent = item["Fn::If"]
            assert absent == ref("AWS::NoValue"), item
            found.append((condition, present))
        else:
            found.append((None, item))
    return found


def granted(policy_resource):
    """A role policy resource's statements by Sid (conditional ones too)."""
    document = policy_resource["Properties"]["PolicyDocument"]
    return {s["Sid"]: s for _, s in unwrap(statements(document))}


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
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Fn::Split": [",", ref("OrganizationId")]}}}, (
        "one organization, or each of a comma-separated list"
    )
    pattern = COLLECTOR["Parameters"]["OrganizationId"]["AllowedPattern"]
    assert re.fullmatch(pattern, "o-abcdefghij")
    assert re.fullmatch(pattern, ",".join(f"o-{c * 10}" for c in "abcde")), "five organizations"
    assert not re.fullmatch(pattern, ",".join(f"o-{c * 10}" for c in "abcdef")), "at most five: the lookup grants are written out for five"
    assert not re.fullmatch(pattern, "o-abcdefghij,") and not re.fullmatch(pattern, "o-abcdefghij, o-bcdefghijk")


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
    assert mapping["Properties"]["BatchSize"] == ref("QueueBatchSize")
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == ref("QueueBatchingWindowSeconds")
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


def test_queue_mode_is_the_default_and_batches_a_storm():
    parameters = COLLECTOR["Parameters"]
    assert parameters["DeliveryMode"]["Default"] == "queue", "batching coalesces storms (docs/deploying.md)"
    size, window = parameters["QueueBatchSize"], parameters["QueueBatchingWindowSeconds"]
    assert (size["Type"], size["Default"], size["MinValue"], size["MaxValue"]) == ("Number", 100, 10, 1000)
    assert (window["Type"], window["Default"], window["MinValue"], window["MaxValue"]) == ("Number", 5, 1, 300)
    queue = RESOURCES["DeliveryQueue"]["Properties"]
    timeout = RESOURCES["Function"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout + window["MaxValue"], "Lambda: 6 x timeout + the batching window"
    assert RESOURCES["DeliveryQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5


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
    tick = RESOURCES["Tick"]["Properties"]["Target"]
    assert tick["DeadLetterConfig"] == {"Arn": dlq}, "ticks the scheduler could not deliver"
    for rule in ("HealthRule", "OrganizationHealthRule"):
        for target in RESOURCES[rule]["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": dlq}, f"{rule}: events it cannot publish"
    assert RESOURCES["FunctionSubscription"]["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": dlq}
    alarm = resource("DeadLettersAlarm", "AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    errors = resource("ErrorsAlarm", "AWS::CloudWatch::Alarm")["Properties"]
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": ref("Function")}]


def test_the_dead_letter_queue_admits_the_rules_the_topic_and_the_tick_role_only():
    policy = resource("DeadLetterQueuePolicy", "AWS::SQS::QueuePolicy")["Properties"]
    allow = [(condition, s) for condition, s in unwrap(statements(policy["PolicyDocument"])) if s["Effect"] == "Allow"]
    services = {s["Principal"]["Service"]: s["Condition"] for condition, s in allow if "Service" in s["Principal"]}
    assert set(services) == {"events.amazonaws.com", "sns.amazonaws.com"}
    assert services["sns.amazonaws.com"] == {"ArnEquals": {"aws:SourceArn": ref("Topic")}}
    roles = [(condition, s) for condition, s in allow if "AWS" in s["Principal"]]
    assert roles == [
        (
            "Ticks",
            {
                "Sid": "SchedulerParksTicksItCannotDeliver",
                "Effect": "Allow",
                "Principal": {"AWS": arn("TickRole")},
                "Action": "sqs:SendMessage",
                "Resource": arn("DeadLetterQueue"),
            },
        )
    ], "EventBridge Scheduler sends dead letters as the schedule's role"
    role = resource("FunctionRole", "AWS::IAM::Role")["Properties"]
    parking = [s for p in role["Policies"] for _, s in unwrap(statements(p["PolicyDocument"])) if s["Resource"] == arn("DeadLetterQueue")]
    assert [s["Action"] for s in parking] == ["sqs:SendMessage"]


# --- The names the key policy trusts are the names the template gives.


def test_the_key_trusts_exactly_the_rules_topic_and_log_group_this_template_names():
    bus = sub(resource("EventBus", "AWS::Events::EventBus")["Properties"]["Name"])
    rule = sub(RESOURCES["HealthRule"]["Properties"]["Name"])
    org_rule = sub(RESOURCES["OrganizationHealthRule"]["Properties"]["Name"])
    topic = sub(RESOURCES["Topic"]["Properties"]["TopicName"])
    log_group = sub(RESOURCES["LogGroup"]["Properties"]["LogGroupName"])
    key = {s["Sid"]: s for _, s in unwrap(resource("Key", "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"])}

    events = key["HealthRulesPublishToTheEncryptedTopic"]["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::If"]
    prefix = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
    assert events[0] == "OrganizationFeed"
    assert [sub(a) for a in events[1]] == [f"{prefix}{bus}/{rule}", f"{prefix}{org_rule}"]
    assert [sub(a) for a in events[2]] == [f"{prefix}{bus}/{rule}"]

    sns = key["TopicDeliversToTheEncryptedQueues"]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sub(sns) == "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + topic

    logs = key["LogsEncryptTheFunctionLog"]["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sub(logs) == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + log_group
    assert key["LogsEncryptTheFunctionLog"]["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}}


def test_the_key_administrators_cannot_grant_themselves_its_use():
    key = resource("Key", "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    admin = {s["Sid"]: s for _, s in unwrap(key)}["AccountAdministersTheKey"]
    assert "kms:CreateGrant" not in admin["Action"]
    assert not [a for a in admin["Action"] if a.startswith("kms:C") and "*" in a], "kms:Create* would include kms:CreateGrant"
    assert [a for a in admin["Action"] if a.startswith("kms:Create")] == ["kms:CreateAlias"]
    grants = [s for _, s in unwrap(key) if "kms:CreateGrant" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert [s["Sid"] for s in grants] == ["ServicesHoldGrantsForTheirOwnResources"]
    assert grants[0]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_the_key_is_used_through_the_services_that_store_the_stack_data_ssm_included():
    key = {s["Sid"]: s for _, s in unwrap(RESOURCES["Key"]["Properties"]["KeyPolicy"]["Statement"])}
    via = key["AccountUsesTheKeyThroughItsServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert [sub(v) for v in via] == [
        f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}" for service in ("secretsmanager", "sqs", "dynamodb", "lambda", "ssm")
    ], "rule webhooks are SecureStrings under this key"
    (condition, tick), = [(c, s) for c, s in unwrap(RESOURCES["Key"]["Properties"]["KeyPolicy"]["Statement"]) if c]
    assert condition == "Ticks"
    assert tick == {
        "Sid": "SchedulerParksTicksInTheEncryptedQueue",
        "Effect": "Allow",
        "Principal": {"AWS": arn("TickRole")},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "sqs.${AWS::Region}.${AWS::URLSuffix}"}}},
    }


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
    unknown = set(variables) - (read_by_delibird() | CONTRACT)
    assert not unknown, f"the template sets variables delibird never reads: {sorted(unknown)}"
    assert set(variables) == CONTRACT - {"DELIBIRD_WEBHOOK_URL"}, "every variable of the contract is deployable"
    assert "DELIBIRD_WEBHOOK_URL" not in variables, "the webhook reaches the function only as a secret"
    assert "DELIBIRD_ALLOW_LOOPBACK_WEBHOOK" not in variables


def test_the_function_environment_points_at_the_stack_resources():
    variables = RESOURCES["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["DELIBIRD_WEBHOOK_SECRET"] == {
        "Fn::If": ["CreateSecret", ref("WebhookSecret"), {"Fn::If": ["HasWebhookSecretArn", ref("WebhookSecretArn"), ref("AWS::NoValue")]}]
    }, "none with routing rules alone"
    assert variables["DELIBIRD_DEDUP_TABLE"] == {"Fn::If": ["Dedup", ref("DedupTable"), ref("AWS::NoValue")]}
    assert variables["DELIBIRD_ACCOUNT_ALIASES"] == {"Fn::If": ["HasAliases", ref("AccountAliases"), ref("AWS::NoValue")]}
    assert variables["DELIBIRD_ACCOUNT_LOOKUP"] == ref("AccountLookup")
    assert variables["DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN"] == {
        "Fn::If": ["HasLookupRole", ref("AccountLookupRoleArn"), ref("AWS::NoValue")]
    }, "the list as given"


# Each new setting: parameter -> condition -> variable, exactly.
@pytest.mark.parametrize(
    "variable, value",
    [
        ("DELIBIRD_RULES", {"Fn::If": ["HasRules", {"Fn::Sub": "ssm:${RulesParameterName}"}, ref("AWS::NoValue")]}),
        ("DELIBIRD_ACCOUNT_TAGS", {"Fn::If": ["HasAccountTags", ref("AccountTags"), ref("AWS::NoValue")]}),
        ("DELIBIRD_ACCOUNT_OU", {"Fn::If": ["ShowOuPath", "1", "0"]}),
        ("DELIBIRD_LANGUAGE", ref("Language")),
        ("DELIBIRD_SEVERITY_CRITICAL_KEYWORDS", {"Fn::If": ["HasCriticalKeywords", ref("SeverityCriticalKeywords"), ref("AWS::NoValue")]}),
        ("DELIBIRD_SEVERITY_HIGH_KEYWORDS", {"Fn::If": ["HasHighKeywords", ref("SeverityHighKeywords"), ref("AWS::NoValue")]}),
        ("DELIBIRD_SEVERITY_WARNING_KEYWORDS", {"Fn::If": ["HasWarningKeywords", ref("SeverityWarningKeywords"), ref("AWS::NoValue")]}),
        ("DELIBIRD_ROLLUP", {"Fn::If": ["RollupEnabled", "1", "0"]}),
        ("DELIBIRD_REMINDERS", {"Fn::If": ["Ticks", ref("Reminders"), ""]}),
        ("DELIBIRD_DIGEST_AT", {"Fn::If": ["Ticks", ref("DigestAt"), ""]}),
        ("DELIBIRD_DIGEST_TZ", ref("DigestTimeZone")),
    ],
)
def test_each_setting_reaches_its_variable(variable, value):
    assert RESOURCES["Function"]["Properties"]["Environment"]["Variables"][variable] == value


@pytest.mark.parametrize(
    "condition, expression",
    [
        ("HasRules", {"Fn::Not": [{"Fn::Equals": [ref("RulesParameterName"), ""]}]}),
        ("HasAccountTags", {"Fn::Not": [{"Fn::Equals": [ref("AccountTags"), ""]}]}),
        ("ShowOuPath", {"Fn::Equals": [ref("AccountOuPath"), "enabled"]}),
        ("HasCriticalKeywords", {"Fn::Not": [{"Fn::Equals": [ref("SeverityCriticalKeywords"), ""]}]}),
        ("HasHighKeywords", {"Fn::Not": [{"Fn::Equals": [ref("SeverityHighKeywords"), ""]}]}),
        ("HasWarningKeywords", {"Fn::Not": [{"Fn::Equals": [ref("SeverityWarningKeywords"), ""]}]}),
        ("RollupEnabled", {"Fn::Equals": [ref("Rollup"), "enabled"]}),
        (
            "Ticks",
            {
                "Fn::And": [
                    {"Condition": "Dedup"},
                    {"Fn::Or": [{"Fn::Not": [{"Fn::Equals": [ref("Reminders"), ""]}]}, {"Fn::Not": [{"Fn::Equals": [ref("DigestAt"), ""]}]}]},
                ]
            },
        ),
    ],
)
def test_each_setting_condition_reads_its_parameter(condition, expression):
    assert COLLECTOR["Conditions"][condition] == expression


@pytest.mark.parametrize(
    "name, default, good, bad",
    [
        ("Reminders", "7d,1d,1h", ["", "30m", "7d,1d,1h"], ["7d,", "1w", "7d 1d", "d"]),
        ("DigestAt", "09:00", ["", "00:00", "23:59"], ["9:00", "24:00", "09:60", "0900"]),
        ("DigestTimeZone", "UTC", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"], ["", "Europe Berlin", "../etc"]),
        ("TickSchedule", "rate(15 minutes)", ["rate(1 hour)", "rate(5 minutes)", "cron(0/15 * * * ? *)"], ["rate(0 minutes)", "15 minutes", "at(2026-01-01T00:00:00)"]),
        ("Language", "en_US", ["ja_JP", "ko_KR"], ["en", "english", "EN_us"]),
        ("AccountTags", "", ["Owner,Team", "cost-center"], ['Owner"', "a\\b"]),
        ("SeverityCriticalKeywords", "", ["BREACH, RANSOM", "DATA_LOSS"], ['"x"', "a;b"]),
        ("RulesParameterName", "", ["/delibird/rules", "/a/b.c_d-e"], ["delibird/rules", "/", "/a//b", "/a b"]),
    ],
)
def test_each_new_parameter_has_its_default_and_refuses_what_delibird_could_not_read(name, default, good, bad):
    parameter = COLLECTOR["Parameters"][name]
    assert parameter["Default"] == default
    for value in good:
        assert re.fullmatch(parameter["AllowedPattern"], value), (name, value)
    for value in bad:
        assert not re.fullmatch(parameter["AllowedPattern"], value), (name, value)


def test_the_enabled_disabled_settings_default_on():
    for name in ("Rollup", "AccountOuPath"):
        assert COLLECTOR["Parameters"][name]["AllowedValues"] == ["enabled", "disabled"]
        assert COLLECTOR["Parameters"][name]["Default"] == "enabled"


def test_a_new_rules_version_changes_the_function_configuration():
    description = RESOURCES["Function"]["Properties"]["Description"]["Fn::If"]
    assert description[0] == "HasRules"
    assert sub(description[1]).endswith("rules ${RulesParameterName} ${RulesVersion}"), (
        "a new description makes Lambda start environments that read the new rules"
    )


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
    (policy,) = role["Policies"]
    items = unwrap(statements(policy["PolicyDocument"]))
    secrets = [(condition, s["Resource"]) for condition, s in items if s["Sid"] == "ReadTheWebhookSecret"]
    assert secrets == [("CreateSecret", ref("WebhookSecret")), ("HasWebhookSecretArn", ref("WebhookSecretArn"))]
    assert all(s["Action"] == "secretsmanager:GetSecretValue" for _, s in items if s["Sid"] == "ReadTheWebhookSecret")
    granted = {s["Sid"]: s for _, s in items}
    assert granted["UseTheStackKey"]["Resource"] == arn("Key")
    assert granted["WriteItsLog"]["Resource"] == arn("LogGroup")


def test_rules_are_read_from_exactly_their_parameter_and_webhooks_only_from_the_project_names():
    policy = resource("RulesPermissions", "AWS::IAM::RolePolicy")
    assert policy["Condition"] == "HasRules"
    assert policy["Properties"]["RoleName"] == ref("FunctionRole")
    prefix = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:"
    assert granted(policy) == {
        "ReadTheRules": {
            "Sid": "ReadTheRules",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": {"Fn::Sub": prefix.replace("{service}", "ssm") + "parameter${RulesParameterName}"},
        },
        "ReadRuleWebhookParameters": {
            "Sid": "ReadRuleWebhookParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": {"Fn::Sub": prefix.replace("{service}", "ssm") + "parameter/${ProjectCode}/webhooks/*"},
        },
        "ReadRuleWebhookSecrets": {
            "Sid": "ReadRuleWebhookSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Fn::Sub": prefix.replace("{service}", "secretsmanager") + "secret:${ProjectCode}/webhooks/*"},
        },
    }
    # RulesParameterName starts with "/", so the ARN has one slash after "parameter".
    assert re.fullmatch(COLLECTOR["Parameters"]["RulesParameterName"]["AllowedPattern"], "/delibird/rules")


def test_the_stack_needs_a_webhook_or_rules_that_name_theirs():
    (given, needed) = COLLECTOR["Rules"]["WebhookGivenAtMostOnce"]["Assertions"]
    assert given["Assert"] == {"Fn::Or": [{"Fn::Equals": [ref("WebhookUrl"), ""]}, {"Fn::Equals": [ref("WebhookSecretArn"), ""]}]}
    assert needed["Assert"] == {
        "Fn::Not": [
            {
                "Fn::And": [
                    {"Fn::Equals": [ref("WebhookUrl"), ""]},
                    {"Fn::Equals": [ref("WebhookSecretArn"), ""]},
                    {"Fn::Equals": [ref("RulesParameterName"), ""]},
                ]
            }
        ]
    }


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
    policy = granted(resource("DedupPermissions", "AWS::IAM::RolePolicy"))
    items = policy["RememberPostedUpdates"]
    assert items["Resource"] == arn("DedupTable")
    calls = {call for call in dynamodb_calls() if call.endswith("Item")}
    assert calls, "no DynamoDB item call found in src/dedup/dynamo.rs"
    assert calls <= set(items["Action"]), f"the role lacks {sorted(calls - set(items['Action']))}"
    assert set(items["Action"]) <= calls, f"the role grants item calls the store never makes: {sorted(set(items['Action']) - calls)}"


def test_the_table_has_the_by_kind_index_and_the_role_may_query_it_and_describe_the_table():
    properties = RESOURCES["DedupTable"]["Properties"]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "kind", "AttributeType": "S"}]
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "by-kind",
            "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    policy = granted(resource("DedupPermissions", "AWS::IAM::RolePolicy"))
    assert set(policy) == {"RememberPostedUpdates", "CheckTheTable", "FindItemsByKind"}
    assert (policy["CheckTheTable"]["Action"], policy["CheckTheTable"]["Resource"]) == ("dynamodb:DescribeTable", arn("DedupTable"))
    assert (policy["FindItemsByKind"]["Action"], policy["FindItemsByKind"]["Resource"]) == (
        "dynamodb:Query",
        {"Fn::Sub": "${DedupTable.Arn}/index/by-kind"},
    ), "Query on the index alone, not on the table"


def test_organizations_lookups_get_exactly_the_calls_delibird_makes():
    lookup = ROOT / "src/accounts/organizations.rs"
    if not lookup.exists():
        pytest.skip("no AWS Organizations lookup in src/ yet")
    calls = set(re.findall(r"\.client\s*\.(\w+)\(\)", lookup.read_text()))
    actions = {"organizations:" + "".join(part.title() for part in call.split("_")) for call in calls}
    policy = resource("DirectLookupPermissions", "AWS::IAM::RolePolicy")["Properties"]["PolicyDocument"]
    allowed = set()
    for _, statement in unwrap(statements(policy)):
        allowed |= set([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    assert actions == allowed, f"src calls {sorted(actions)}, the role grants {sorted(allowed)}"
    role = resource("LookupPermissions", "AWS::IAM::RolePolicy")["Properties"]["PolicyDocument"]
    assert [s["Action"] for s in statements(role)] == ["sts:AssumeRole"]


def test_the_function_may_assume_each_lookup_role_given_and_nothing_else():
    policy = resource("LookupPermissions", "AWS::IAM::RolePolicy")
    assert policy["Condition"] == "HasLookupRole"
    (statement,) = statements(policy["Properties"]["PolicyDocument"])
    assert statement["Resource"] == {"Fn::Split": [",", ref("AccountLookupRoleArn")]}, "one role per organization"
    pattern = COLLECTOR["Parameters"]["AccountLookupRoleArn"]["AllowedPattern"]
    one, two = "arn:aws:iam::444455556666:role/lookup", "arn:aws-cn:iam::777788889999:role/path/lookup"
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, one) and re.fullmatch(pattern, f"{one},{two}")
    assert not re.fullmatch(pattern, f"{one},") and not re.fullmatch(pattern, "arn:aws:iam::444455556666:user/x")


def test_direct_lookups_read_each_organization_given_and_only_those():
    policy = resource("DirectLookupPermissions", "AWS::IAM::RolePolicy")
    items = unwrap(statements(policy["Properties"]["PolicyDocument"]))
    reads = [(condition, s) for condition, s in items if s["Sid"] != "ListTheOrganizationsAccounts"]
    assert [condition for condition, _ in reads] == [None] + [f"DirectLookupOrganization{n}" for n in range(2, 6)]
    kinds = "arn:${AWS::Partition}:organizations::*:account/${Id}/*,arn:${AWS::Partition}:organizations::*:ou/${Id}/ou-*,arn:${AWS::Partition}:organizations::*:root/${Id}/r-*"
    padded = {"Fn::Split": [",", {"Fn::Sub": "${OrganizationId},,,,"}]}
    for index, (condition, statement) in enumerate(reads):
        organization = {"Fn::Select": [0, {"Fn::Split": [",", ref("OrganizationId")]}]} if index == 0 else {"Fn::Select": [index, padded]}
        assert statement["Resource"] == {"Fn::Split": [",", {"Fn::Sub": [kinds, {"Id": organization}]}]}, index
        if condition:
            assert COLLECTOR["Conditions"][condition] == {
                "Fn::And": [{"Condition": "DirectLookup"}, {"Fn::Not": [{"Fn::Equals": ["", {"Fn::Select": [index, padded]}]}]}]
            }


# --- The forwarder, and how its parameter meets the collector's output.


# --- Reminders and the digest: the tick schedule.


def test_the_tick_schedule_invokes_the_function_with_the_tick_payload():
    tick = resource("Tick", "AWS::Scheduler::Schedule")
    assert tick["Condition"] == "Ticks", "only with the dedup table: reminders need stored state"
    properties = tick["Properties"]
    assert properties["ScheduleExpression"] == ref("TickSchedule")
    assert COLLECTOR["Parameters"]["TickSchedule"]["Default"] == "rate(15 minutes)"
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert sub(properties["Name"]) == "${ProjectCode}-tick"
    target = properties["Target"]
    assert target["Arn"] == arn("Function")
    assert target["RoleArn"] == arn("TickRole")
    assert json.loads(target["Input"]) == {"delibird": "tick", "scheduledTime": "<aws.scheduler.scheduled-time>"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 900}
    assert target["DeadLetterConfig"] == {"Arn": arn("DeadLetterQueue")}


def test_the_tick_role_may_only_invoke_the_function_for_this_schedule():
    role = resource("TickRole", "AWS::IAM::Role")
    assert role["Condition"] == "Ticks"
    (trust,) = statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")},
        "ArnEquals": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/default"}},
    }
    assert RESOURCES["Tick"]["Properties"].get("GroupName", "default") == "default", "the schedule is in the group the trust names"
    (policy,) = role["Properties"]["Policies"]
    (grant,) = statements(policy["PolicyDocument"])
    assert grant["Action"] == "lambda:InvokeFunction"
    assert grant["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${ProjectCode}"}
    assert RESOURCES["Function"]["Properties"]["FunctionName"] == ref("ProjectCode"), "the ARN the role names is the function's"


def test_asynchronous_invocations_are_configured_whenever_something_invokes_asynchronously():
    config = resource("AsynchronousInvocations", "AWS::Lambda::EventInvokeConfig")
    assert config["Condition"] == "InvokedAsynchronously"
    assert COLLECTOR["Conditions"]["InvokedAsynchronously"] == {"Fn::Or": [{"Condition": "Direct"}, {"Condition": "Ticks"}]}


# --- Alarms on delibird's own metrics (Embedded Metric Format in its log).


@pytest.mark.parametrize("name, metric, condition", [("FailedAlarm", "Failed", None), ("StoreUnavailableAlarm", "StoreUnavailable", "Dedup")])
def test_delibird_metric_alarms(name, metric, condition):
    alarm = resource(name, "AWS::CloudWatch::Alarm")
    assert alarm.get("Condition") == condition
    properties = dict(alarm["Properties"])
    assert sub(properties.pop("AlarmName")).startswith("${ProjectCode}-")
    properties.pop("AlarmDescription")
    assert properties == {
        "Namespace": "delibird",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": ref("Function")}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": {"Fn::If": ["HasAlarmTopic", [ref("AlarmTopicArn")], ref("AWS::NoValue")]},
    }


def test_the_function_keeps_its_own_log_group_for_its_metrics():
    assert RESOURCES["Function"]["Properties"]["LoggingConfig"] == {"LogGroup": ref("LogGroup")}
    assert sub(RESOURCES["LogGroup"]["Properties"]["LogGroupName"]) == "/aws/lambda/${ProjectCode}"


# --- What the stack stores outlives it.


@pytest.mark.parametrize("name", ["DeadLetterQueue", "Key", "DedupTable", "WebhookSecret", "LogGroup"])
def test_stored_state_is_retained(name):
    assert RESOURCES[name]["DeletionPolicy"] == "Retain"
    assert RESOURCES[name]["UpdateReplacePolicy"] == "Retain"


def test_nothing_else_is_retained():
    retained = {name for name, r in RESOURCES.items() if "DeletionPolicy" in r or "UpdateReplacePolicy" in r}
    assert retained == {"DeadLetterQueue", "Key", "DedupTable", "WebhookSecret", "LogGroup"}
    assert not [name for name, r in FORWARDER["Resources"].items() if "DeletionPolicy" in r], (
        "a retained forwarder queue would block its StackSet instance coming back"
    )


# --- Partitions: aws, aws-cn, aws-us-gov.


def strings(node):
    """Every string in a template node, with the template strings of Fn::Sub."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("AllowedPattern", "Description", "AlarmDescription", "AssertDescription"):
                continue
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


@pytest.mark.parametrize("template", [COLLECTOR, FORWARDER], ids=["collector", "forwarder"])
def test_every_arn_names_its_partition_and_every_endpoint_its_suffix(template):
    found = [s for s in strings(template["Resources"]) if "arn:" in s]
    assert found, "no ARN found"
    for text in found:
        for position in [m.start() for m in re.finditer("arn:", text)]:
            assert text.startswith("arn:${AWS::Partition}:", position), text
    endpoints = [s for s in strings(template["Resources"]) if re.search(r"\$\{AWS::Region\}\.", s)]
    for text in endpoints:
        assert text.endswith(".${AWS::URLSuffix}"), f"{text}: a service endpoint, .amazonaws.com.cn in China"
    principals = {s for s in strings(template["Resources"]) if s.endswith(".amazonaws.com")}
    assert principals <= {"events.amazonaws.com", "sns.amazonaws.com", "lambda.amazonaws.com", "scheduler.amazonaws.com"}, (
        "service principals the same in every partition (the CDK's region-info table)"
    )


def test_the_image_uri_may_be_in_china():
    pattern = COLLECTOR["Parameters"]["ImageUri"]["AllowedPattern"]
    assert re.fullmatch(pattern, "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/delibird:t1")
    assert re.fullmatch(pattern, "111122223333.dkr.ecr.us-gov-west-1.amazonaws.com/delibird:t1")


# --- The forwarder, and how its parameter meets the collector's output.


def test_the_forwarder_parks_what_it_cannot_put_in_its_own_encrypted_queue():
    resources = FORWARDER["Resources"]
    (target,) = resources["ForwardRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": arn("DeadLetterQueue")}
    assert "RetryPolicy" not in target, "EventBridge takes no RetryPolicy for an event-bus target"
    queue = resources["DeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    policy = resources["DeadLetterQueuePolicy"]["Properties"]
    assert policy["Queues"] == [ref("DeadLetterQueue")]
    allow, deny = statements(policy["PolicyDocument"])
    assert allow == {
        "Sid": "TheForwarderRuleParksEventsItCannotPut",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn("DeadLetterQueue"),
        "Condition": {"ArnEquals": {"aws:SourceArn": arn("ForwardRule")}},
    }
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


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
