"""Checks CloudFormation parameter overrides against a template before anything is deployed.

    printf '%s\0' Name=value ... | python3 scripts/lib/check_parameters.py templates/collector.yaml

Reads NUL-separated Name=value items on stdin (stdin, so that no secret among them is ever in an
argument list) and prints one line per problem, "Name<TAB>problem": a name the template does not
have, or a value outside the parameter's MaxLength, AllowedPattern, AllowedValues, MinValue or
MaxValue,
as CloudFormation would refuse it (only later, after the image is pushed). A NoEcho value is
never repeated. The standard library only: the template's Parameters block is read as the
templates write it (two-space names, four-space fields), not with a YAML library.
"""

import json
import re
import sys


def parameters(text):
    block = re.search(r"^Parameters:\n(.*?)^\S", text, re.M | re.S).group(1)
    found = {}
    for name, body in re.findall(r"^  (\w+):\n((?:    .*\n|\s*\n)*)", block, re.M):
        found[name] = {key: value.strip() for key, value in re.findall(r"^    (\w+): (.*)$", body, re.M)}
    return found


def scalar(value):
    """A YAML scalar as the templates write them: "double-quoted", 'single-quoted' or plain."""
    if value.startswith('"'):
        return json.loads(value)
    if value.startswith("'"):
        return value[1:-1].replace("''", "'")
    return value


def problems(fields, value):
    shown = "the value" if fields.get("NoEcho") == "true" else repr(value)
    if "MaxLength" in fields and len(value) > int(fields["MaxLength"]):
        yield f"{shown} is longer than {fields['MaxLength']} characters"
    if "AllowedPattern" in fields:
        pattern = scalar(fields["AllowedPattern"])
        if not re.fullmatch(pattern, value):
            yield f"{shown} does not match {pattern}"
    if "AllowedValues" in fields:
        allowed = [scalar(v.strip()) for v in fields["AllowedValues"].strip("[]").split(",")]
        if value not in allowed:
            yield f"{shown} is not one of {', '.join(allowed)}"
    if fields.get("Type") == "Number":
        if not re.fullmatch(r"-?[0-9]+", value):
            yield f"{shown} is not a whole number"
            return
        if "MinValue" in fields and int(value) < int(fields["MinValue"]):
            yield f"{shown} is below {fields['MinValue']}"
        if "MaxValue" in fields and int(value) > int(fields["MaxValue"]):
            yield f"{shown} is above {fields['MaxValue']}"


def main(template):
    known = parameters(open(template).read())
    for item in sys.stdin.buffer.read().decode().split("\0")[:-1]:
        name, _, value = item.partition("=")
        if name not in known:
            print(f"{name}\tnot a parameter of {template}")
            continue
        for problem in problems(known[name], value):
            print(f"{name}\t{problem}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
