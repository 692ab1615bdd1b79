//! The SQL Server stand-in's schema (`sql/ssd/schema.sql`) holds every table and column of the
//! source contract (`sql/sources.yaml`), typed so that the extract queries' casts make sense:
//! a contract date is a date or datetime in the schema, contract text a character or number
//! type. A contract column the stand-in lacks would make every SQL Server test pass without
//! ever reading it.

use mssql_standin::parse_ddl;
use scrutiny_extract::Contract;
use scrutiny_extract::contract::Kind;

#[test]
fn the_standin_schema_covers_every_contract_table_and_column() {
    let root = scrutiny_core::checkout_root().join("sql");
    let contract = Contract::load(&root.join("sources.yaml")).unwrap();
    let ddl = std::fs::read_to_string(root.join("ssd/schema.sql")).unwrap();
    let tables = parse_ddl(&ddl).unwrap();
    let mut problems = Vec::new();
    for t in &contract.tables {
        let Some(st) = tables.iter().find(|s| s.name == t.name) else {
            problems.push(format!("no table `{}`", t.name));
            continue;
        };
        for c in &t.columns {
            match st.columns.iter().find(|s| s.name == c.name) {
                None => problems.push(format!("`{}.{}` is missing", t.name, c.name)),
                Some(sc) => {
                    let ty = format!("{:?}", sc.sql_type);
                    let is_date = ty.starts_with("Date");
                    if (c.kind == Kind::Date) != is_date {
                        problems.push(format!("`{}.{}` is {ty}, the contract says {:?}", t.name, c.name, c.kind));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "sql/ssd/schema.sql does not cover sql/sources.yaml:\n{}", problems.join("\n"));
}
