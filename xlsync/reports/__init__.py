"""Reports: the monthly handout, the daily list and the blackboard page.

- `content`: the reports' typed content; `data`: built from a check; `handout`: the
  handout's one definition of sections and columns;
- `html`, `pdf` (+ `pdf_table`, `pdf_fonts`), `daily_xlsx`: the renderers;
- `build`: one report from a register set, end to end; `jobs`: the watcher's scheduled jobs.
"""
