"""A small evaluator of resource policies, for the hops whose policy moto stores but never
evaluates (the collector bus policy, the topic, queue, key and function policies): it answers
whether one request is allowed by the policy the deployment holds, read back from the emulator.

It is this test's own reading of AWS's rules for the subset the templates use, not AWS's
evaluation: an explicit Deny wins, else an Allow whose principal, action, resource and every
condition match, else the request is denied. Condition keys are compared case-insensitively, as
IAM does; a key the request lacks fails its condition. Any operator it does not know raises, so a
policy it cannot read is never taken as allowing.
"""

import fnmatch
import json

_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "ArnEquals": lambda value, wanted: value == wanted,
    "ArnLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "Bool": lambda value, wanted: str(value).lower() == str(wanted).lower(),
}


def _listed(value):
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, request):
    # An identity policy's statements name no Principal: they are about whoever holds them.
    if principal is None or principal == "*":
        return True
    if not isinstance(principal, dict):
        raise ValueError(f"principal {principal!r}: not a form this evaluator reads")
    for kind, values in principal.items():
        for value in _listed(values):
            if kind == "Service" and request.get("service") == value:
                return True
            if kind == "AWS" and value == "*":
                return True
            if kind == "AWS" and request.get("principal") and value == request["principal"]:
                return True
            if kind == "AWS" and request.get("account") and value in (
                request["account"],
                f"arn:aws:iam::{request['account']}:root",
            ):
                return True
    return False


def _matches(patterns, value):
    return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in _listed(patterns))


def _conditions_hold(conditions, context):
    context = {key.lower(): value for key, value in context.items()}
    for operator, tests in conditions.items():
        if operator not in _OPERATORS:
            raise ValueError(f"condition operator {operator}: not one this evaluator reads")
        for key, wanted in tests.items():
            value = context.get(key.lower())
            if value is None or not any(_OPERATORS[operator](str(value), str(w)) for w in _listed(wanted)):
                return False
    return True


def decide(policy, *, action, resource, service=None, account=None, principal=None, context=None):
    """'Allow', 'Deny' (an explicit Deny matched) or 'ImplicitDeny' for one request: a service
    principal (service=…), an account's principal (account=…), or one IAM role or user
    (principal=its ARN, which is also a principal of its account), with these condition keys."""
    if isinstance(policy, str):
        policy = json.loads(policy)
    if principal:
        account = account or principal.split(":")[4]
    request = {"service": service, "account": account, "principal": principal}
    allowed = False
    for statement in _listed(policy["Statement"]):
        if not _principal_matches(statement.get("Principal"), request):
            continue
        unread = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        if unread:
            raise ValueError(f"{sorted(unread)}: not read by this evaluator")
        # A trust policy's statements name no Resource: they are about the role itself.
        if not _matches(statement["Action"], action) or not _matches(statement.get("Resource", resource), resource):
            continue
        if not _conditions_hold(statement.get("Condition", {}), context or {}):
            continue
        if statement["Effect"] == "Deny":
            return "Deny"
        allowed = True
    return "Allow" if allowed else "ImplicitDeny"
