"""Reading delibird's CloudFormation templates: YAML with the short intrinsic tags (!Ref, !Sub, …)
turned into their long form ({"Ref": …}, {"Fn::Sub": …}), and the template variants that make
checkov and cfn-guard look at resources behind non-default conditions.

    python3 tests/infra/cfn.py variants OUT_DIR   # writes the variants (scripts/check-infra)
"""

import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    # !Ref and !Condition are the two short tags whose long form has no Fn:: prefix.
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load(name_or_path):
    """A template as plain dicts and lists, intrinsic functions in their long form."""
    path = pathlib.Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = TEMPLATES / name_or_path
    return yaml.load(path.read_text(), Loader=_Loader)


# Parameter defaults flipped so that every conditional resource exists in some variant: checkov
# evaluates conditions with the defaults and skips resources whose condition is false. The
# defaults (queue mode, the table, ticks, no webhook yet) are the base template's.
VARIANTS = {
    "collector-direct-org-feed-lookup.yaml": {
        "WebhookUrl": "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t",
        "DeliveryMode": "direct",
        "OrganizationFeed": "enabled",
        "OrganizationId": "o-aaaaaaaaaa,o-bbbbbbbbbb,o-cccccccccc,o-dddddddddd,o-eeeeeeeeee",
        "AccountLookup": "organizations",
        "AccountAliases": '{"111122223333": "payments-prod"}',
        "AccountTags": "Owner,Team",
        "SeverityCriticalKeywords": "BREACH, RANSOM",
        "SeverityHighKeywords": "OUTAGE",
        "SeverityWarningKeywords": "MAINTENANCE",
        "AlarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alarms",
    },
    "collector-given-secret-lookup-roles.yaml": {
        "WebhookSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:chat-AbCdEf",
        "WebhookSecretKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "AccountLookup": "organizations",
        "AccountLookupRoleArn": "arn:aws:iam::444455556666:role/delibird-account-lookup,arn:aws:iam::777788889999:role/delibird-account-lookup",
        "Deduplication": "disabled",
    },
    "collector-rules-only.yaml": {
        "RulesParameterName": "/delibird/rules",
        "RulesVersion": "rules@3 oncall@1",
        "Rollup": "disabled",
        "AccountOuPath": "disabled",
    },
}


def variant_text(text, defaults):
    """The template text with these parameters' Default lines replaced, or added after the Type
    line of a parameter that has none (each parameter must exist once)."""
    for name, value in defaults.items():
        quoted = yaml.safe_dump(value, default_style='"').strip()
        pattern = re.compile(rf"(\n  {name}:\n(?:    .*\n)*?    Default: ).*\n")
        text, count = pattern.subn(lambda m: m.group(1) + quoted + "\n", text)
        if count == 0:
            pattern = re.compile(rf"(\n  {name}:\n    Type: .*\n)")
            text, count = pattern.subn(lambda m: m.group(1) + "    Default: " + quoted + "\n", text)
        if count != 1:
            raise ValueError(f"parameter {name}: found {count} Default lines")
    return text


def write_variants(out_dir):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / "collector.yaml").read_text()
    for name, defaults in VARIANTS.items():
        (out / name).write_text(variant_text(text, defaults))
    return sorted(out / name for name in VARIANTS)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "variants":
        for path in write_variants(sys.argv[2]):
            print(path)
    else:
        sys.exit(__doc__)
