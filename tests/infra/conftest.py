"""tests/infra's pytest settings. test_emulator_deploy.py deploys the templates in moto and runs
the real bootstrap; scripts/check-infra runs it in a step of its own, naming the file, so a run of
the whole directory (the wiring step's `pytest tests/infra`) leaves it out."""

import pathlib

EMULATOR_TEST = pathlib.Path(__file__).with_name("test_emulator_deploy.py")


def pytest_ignore_collect(collection_path, config):
    if collection_path != EMULATOR_TEST:
        return None
    named = {pathlib.Path(arg.split("::")[0]).resolve() for arg in config.args}
    return True if EMULATOR_TEST not in named else None
