"""Progress bars in logs: plain lines while long work runs, nothing for short work."""

import io
import time

from blox_gym.progress import progress_bar


def test_a_log_gets_a_line_while_one_long_step_runs():
    log = io.StringIO()  # no terminal
    for _ in progress_bar(range(1), desc="work", unit="step", file=log, interval_s=0.1):
        time.sleep(1.3)  # one step lasts 13 intervals, into the second second
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and all(line.startswith("work:") for line in lines)
    assert lines[-1].startswith("work: 100%") and "1/1" in lines[-1]
    during_the_step = [line for line in lines if " 0/1 [00:0" in line]
    assert len(during_the_step) >= 2  # heartbeats: the elapsed time moves on, no update
    assert len(lines) == len(set(lines))  # a line only when it says something new


def test_short_or_disabled_work_writes_nothing():
    log = io.StringIO()
    assert sum(progress_bar(range(100), desc="quick", file=log, interval_s=5)) == 4950
    bar = progress_bar(total=3, desc="off", file=log, enabled=False, interval_s=0.01)
    bar.update(3)
    time.sleep(0.05)
    bar.close()
    assert log.getvalue() == ""
