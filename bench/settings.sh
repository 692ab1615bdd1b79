# Sourced by the benchmarks that run from synthetic CSV files (compare.sh, compute.sh,
# memory_limit.sh): one settings file for the files source, so the three measure the same setup.
#   files_settings FILE SQL_DIR OUT [EXTRA_YAML]
# FILE's directory holds ./ssd (the CSVs and team map); landing and mart go under OUT (`.` or `./name`, relative
# to FILE's directory); EXTRA_YAML is appended (a compute: section, say).
files_settings() {
  cat > "$1" <<YAML
source:
  files:
    path: ./ssd
storage:
  landing: $3/landing
  mart: $3/mart
reference:
  team_org_units: ./ssd/team_org_units.csv
measures:
  sql_dir: $2
${4:-}
YAML
}
