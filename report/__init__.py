"""The `report` stage: reads the artifacts of `mine` and `build` and writes the pair quality report, one
self-contained HTML page (funnel, the gate's measures with their thresholds, examples with audio) with its
plots. Entry point: :func:`vocalmine.report.report.build_report`."""
