"""evaluation: BSS Eval scores of separations (bss, clips, evaluate, tables, schema) and the pair report (report*)."""
