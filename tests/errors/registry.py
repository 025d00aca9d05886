"""``CASES, case = registry()``: each ``cases_<topic>.py`` registers its bad actions with
``@case("id")`` on a function of pytest's ``tmp_path``; the function's docstring is the
"input" column of docs/errors.md."""


def registry():
    cases = {}

    def case(case_id: str):
        def register(fn):
            if case_id in cases:
                raise ValueError(f"duplicate error-table id {case_id!r}")
            cases[case_id] = fn
            return fn
        return register

    return cases, case
