"""Run control: what keeps a weekly run safe, whoever starts it (the DAG or `salesprep run`):
one run at a time (`lease`), its settings checked first (`preflight`), weeks it must refuse
(`week_guard`), outputs swapped in whole (`atomic_swap`) and the owner of what a dead run left
(`process_owner`)."""
