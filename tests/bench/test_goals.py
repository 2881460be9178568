"""The speed goals read a run's figures; the hot-receiver and bulk goals explain a miss."""

from bench.goals import goals, hot_receiver
from bench.report import render
from bench.runner import ContenderResult, RunReport, ScenarioResult
from bench.timing import Round, summarize
from bench.waits import KINDS


def scenario(name, speeds, *, statements=1.0, sample_ms=0.6, samples=None):
    results = {
        contender: ContenderResult(
            contender,
            contender,
            summary=summarize([Round(speed, 1.0)]),
            statements=statements,
            sample_ms=sample_ms,
        )
        for contender, speed in speeds.items()
    }
    for contender, (ms, cpu_ms, commit_ms) in (samples or {}).items():
        result = results[contender]
        result.sample_ms, result.sample_cpu_ms, result.sample_commit_ms = ms, cpu_ms, commit_ms
    return ScenarioResult(name, name, "", 8, "op", results)


def report(hot, pairs, vendor="postgresql", **options):
    return RunReport(
        {"vendor": vendor},
        [scenario("hot_receiver_p8", hot, **options), scenario("transfer_p8", pairs)],
    )


def hot_goal(run):
    return next(goal for goal in goals(run) if goal.text.startswith("hot receiver"))


def test_a_hot_receiver_at_70_percent_meets_the_goal_with_nothing_to_explain():
    run = report({"ours": 1400, "floor": 1500}, {"ours": 2000, "floor": 2500})
    found = hot_receiver(run)
    assert found["ratios"]["ours"] == 0.7 and found["ratios"]["floor"] == 0.6
    assert found["why"] == ""
    assert hot_goal(run).met is True


def test_below_70_percent_the_report_explains_with_the_runs_own_figures():
    run = report({"ours": 1000, "floor": 1250}, {"ours": 2000, "floor": 2500})
    found = hot_receiver(run)
    assert hot_goal(run).met is False
    why = found["why"]
    assert "1,000.0/s" in why and "1.00 ms" in why and "0.60 ms" in why
    # The floor's own hot/distinct ratio, and ours against the floor.
    assert "reaches 50% of its own distinct pairs" in why
    assert "ours runs at 80% of the floor" in why
    assert "one statement that commits by itself" in why


def test_the_explanation_gives_where_the_payments_waited_when_it_was_sampled():
    run = report({"ours": 1000, "floor": 1250}, {"ours": 2000, "floor": 2500})
    assert "Sampled" not in hot_receiver(run)["why"]
    hot, pairs = run.scenario("hot_receiver_p8"), run.scenario("transfer_p8")
    hot.results["ours"].waits = dict(zip(KINDS, [0.41, 0.07, 0.11, 0.03, 0.38], strict=True))
    pairs.results["ours"].waits = dict(zip(KINDS, [0.0, 0.2, 0.1, 0.0, 0.7], strict=True))
    why = hot_receiver(run)["why"]
    assert "41% of their time waiting for a row lock (between distinct pairs: 0%)" in why
    assert "7% writing or flushing the WAL, 11% running and 38% idle" in why
    run.meta.update(
        database="PostgreSQL", mode="full", rounds=1, python="3", django="5", peer_version="0",
        cpus=2, started="now",
    )
    lines = render(run).splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("Where the")) :]
    assert table[1].split() == [
        *("scenario", "contender", "row", "lock", "WAL", "running", "other", "waits", "client")
    ]
    assert any(line.split()[-5:] == ["41%", "7%", "11%", "3%", "38%"] for line in table)


def test_an_operation_of_several_statements_is_explained_as_such():
    run = report({"ours": 500, "floor": 1250}, {"ours": 2000, "floor": 2500}, statements=4.0)
    why = hot_receiver(run)["why"]
    assert "across 4 statements, COMMIT included" in why
    assert "commits by itself" not in why


def test_on_sqlite_the_explanation_is_the_database_lock():
    run = report({"ours": 100}, {"ours": 400}, vendor="sqlite")
    assert "BEGIN IMMEDIATE" in hot_receiver(run)["why"]


def test_the_postgresql_goals_are_shown_but_not_judged_on_sqlite():
    def run(vendor):
        return RunReport(
            {"vendor": vendor},
            [scenario("transfer_seq", {"ours": 400, "floor": 1000}, statements=6.0)],
        )

    on_postgres = {goal.text: goal for goal in goals(run("postgresql"))}
    on_sqlite = {goal.text: goal for goal in goals(run("sqlite"))}
    floor_goal = "sequential transfers ≥ 50% of the floor"
    assert on_postgres[floor_goal].met is False and on_postgres[floor_goal].elsewhere == ""
    assert on_sqlite[floor_goal].met is None and on_sqlite[floor_goal].figure == "0.400"
    assert on_sqlite[floor_goal].as_dict()["goal_on"] == "PostgreSQL"
    budget = next(text for text in on_sqlite if text.endswith("≤ 6 statements"))
    assert on_postgres[budget].met is True and on_sqlite[budget].met is None


def bulk_goal(run, name):
    return next(goal for goal in goals(run) if goal.text.startswith(name))


def test_a_bulk_rate_below_its_goal_says_where_a_batch_goes():
    samples = {"ours": (140.0, 80.5, 30.25), "floor": (40.0, 9.0, 1.5)}
    transfers = scenario(
        "bulk_transfer", {"ours": 8000, "floor": 30000}, statements=6.0, samples=samples
    )
    deposits = scenario(
        "bulk_deposit", {"ours": 25000, "floor": 60000}, statements=5.0, samples=samples
    )
    run = RunReport({"vendor": "postgresql"}, [transfers, deposits])
    missed = bulk_goal(run, "bulk transfers")
    assert missed.met is False
    assert "a batch of ours takes 140.0 ms: 80.5 ms of Python" in missed.why
    assert "30.2 ms in COMMIT" in missed.why and "three rows" in missed.why
    assert "The floor's batch, two rows of three columns an item, takes 40.0 ms" in missed.why
    assert "1.5 ms of it in COMMIT" in missed.why
    assert missed.as_dict()["why"] == missed.why
    met = bulk_goal(run, "bulk deposits")
    assert met.met is True and met.why == "" and met.as_dict()["why"] is None
