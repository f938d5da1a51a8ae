"""N open scheduled changes (EC2 retirements) in 50 accounts, one starting every 20 minutes from
2026-12-01T10:00Z, as one JSON array on stdout: the load `delibird reminders` and `delibird
digest` are checked under in scripts/test (the same events as tools/tests/integration/schedule.rs).

    python3 scripts/lib/open-changes.py 500 > open-changes.json
"""

import copy
import datetime
import json
import pathlib
import sys

FIXTURE = "tests/fixtures/health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json"


def main() -> None:
    count = int(sys.argv[1])
    base = json.loads(pathlib.Path(FIXTURE).read_text())
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)
    events = []
    for i in range(count):
        event = copy.deepcopy(base)
        account = f"{300_000_000_000 + i % 50:012}"
        at = start + datetime.timedelta(minutes=20 * i)
        event["account"] = account
        event["detail"]["affectedAccount"] = account
        event["detail"]["eventArn"] = f"arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/{i:06}"
        event["detail"]["startTime"] = at.strftime("%a, %d %b %Y %H:%M:%S GMT")
        events.append(event)
    json.dump(events, sys.stdout)


if __name__ == "__main__":
    main()
