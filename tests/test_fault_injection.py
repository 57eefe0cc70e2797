"""The fault-injection table (tests/fault_injection.py): no traceback, no silent exit 0 on damaged input, no
half-written or left-behind file, for every command and bad input in it."""


def test_no_command_fails_badly_on_bad_input(fault_injection, tmp_path):
    outcomes = fault_injection.run_all(tmp_path)
    bad = [o for o in outcomes if o.problems]
    assert not bad, fault_injection.report(bad) + "\n\n" + "\n---\n".join(o.stderr[-2000:] for o in bad)
    assert len(outcomes) >= 30
    # damaged videos were noticed, not just survived
    assert all(o.warned or o.exit_code == 1 for o in outcomes if o.case.expect == "damaged")
