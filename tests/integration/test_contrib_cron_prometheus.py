"""The cron and Prometheus recipes of README.rst, run for real.

``contrib/cron/mailrep-cron`` mails a check's report only when it changed, with the status
line (no perfdata) as the subject and no file written anywhere; a recording ``mail`` command
stands in for the MTA. ``contrib/prometheus/mailrep.rules.yml`` passes ``promtool check
rules``, and ``promtool test rules`` fires its alerts on series taken from a real
``--format openmetrics`` run, so renaming a metric breaks this test, not someone's pager.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.lab import LISTED_IP
from tests.support.metrics import PROMTOOL, openmetrics
from tests.support.plugin_runner import BIN, run_plugin
from tests.support.servers.rbldnsd import ip4set

REPO = Path(__file__).resolve().parents[2]
CRON = REPO / "contrib" / "cron" / "mailrep-cron"
RULES = REPO / "contrib" / "prometheus" / "mailrep.rules.yml"
ZONE = "psbl.surriel.com"

RECORDING_MAIL = """#!/bin/sh
# records one mail: its arguments and its body
{{ printf '%s\\n' "$@"; echo ---; cat; }} > "{outbox}/$(date +%s%N).mail"
"""


@pytest.fixture
def mailer(tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    mail = tmp_path / "mail"
    mail.write_text(RECORDING_MAIL.format(outbox=outbox))
    mail.chmod(0o755)
    return mail, outbox


def cron(mailer, tmp_path, ns: str):
    mail, outbox = mailer
    private_tmp = tmp_path / "tmpdir"
    private_tmp.mkdir(exist_ok=True)
    argv = [str(CRON), "postmaster@example.org", str(BIN / "check_dnsbl"), "-n", ns]
    argv += ["--allow-nonglobal", "-z", ZONE, "-H", LISTED_IP, "--state-dir", str(tmp_path / "s")]
    env = {**os.environ, "MAILREP_MAIL": str(mail), "TMPDIR": str(private_tmp)}
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=60)
    assert list(private_tmp.iterdir()) == []  # nothing in the temporary directory
    mails = []
    for m in sorted(outbox.glob("*.mail")):
        mails.append(m.read_text().split("\n---\n", 1))
        m.rename(m.with_suffix(".read"))  # the next run's mails are its own
    return proc, mails


def test_cron_mails_once_per_change_with_a_subject_without_perfdata(
    mailer, tmp_path, psbl, rbldnsd
):
    proc, mails = cron(mailer, tmp_path, psbl.nameserver)
    assert proc.returncode == 2 and proc.stdout == b""
    ((args, body),) = mails
    subject = f"DNSBL CRITICAL - {LISTED_IP} listed on {ZONE} (1 of 1 list)"
    assert args.splitlines() == ["-s", subject, "postmaster@example.org"]
    assert body.startswith(subject + " | ")  # the body keeps the whole report

    proc, mails = cron(mailer, tmp_path, psbl.nameserver)
    assert (proc.returncode, mails) == (0, [])  # nothing changed: no mail

    clean = rbldnsd([ip4set(ZONE)])
    proc, mails = cron(mailer, tmp_path, clean.nameserver)
    ((args, body),) = mails
    assert args.splitlines()[1] == f"DNSBL OK - {LISTED_IP} not listed on 1 list"
    assert f"{LISTED_IP} delisted from {ZONE}" in body


def test_cron_wrapper_without_a_plugin_is_a_usage_error():
    proc = subprocess.run([str(CRON), "postmaster@example.org"], capture_output=True)
    assert proc.returncode == 3 and b"usage: mailrep-cron" in proc.stderr


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def test_the_alerting_rules_pass_promtool():
    proc = promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def series_of(exposition: str) -> list[dict[str, str]]:
    """Every sample of a real exposition as a promtool input series, constant for 40m."""
    out = []
    for family in openmetrics(exposition).values():
        for s in family:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out.append({"series": f"{s.name}{{{labels}}}", "values": f"{s.value:g}x40"})
    return out


def test_the_alerts_fire_on_a_real_listed_run(psbl, tmp_path):
    r = run_plugin(
        "check_dnsbl",
        *["-n", psbl.nameserver, "--allow-nonglobal", "-z", ZONE, "-H", LISTED_IP],
        *["--format", "openmetrics", "--state-dir", str(tmp_path / "s")],
    )
    check = openmetrics(r.stdout)["mailrep_check_state"][0].labels["check"]
    labels = {"plugin": "check_dnsbl", "check": check}
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series_of(r.stdout),
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "MailrepAddressListed",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    **labels,
                                    "severity": "critical",
                                    "target": LISTED_IP,
                                    "zone": ZONE,
                                },
                                "exp_annotations": {
                                    "summary": f"{LISTED_IP} is listed on {ZONE}",
                                },
                            }
                        ],
                    },
                    {"eval_time": "5m", "alertname": "MailrepStateNotSaved", "exp_alerts": []},
                    {
                        "eval_time": "5m",
                        "alertname": "MailrepCheckCritical",
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "severity": "critical"},
                                "exp_annotations": {
                                    "summary": f"check_dnsbl ({check}) on  is CRITICAL",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "rules.test.yml"
    test_file.write_text(json.dumps(tests))  # JSON is YAML
    proc = promtool("test", "rules", str(test_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
