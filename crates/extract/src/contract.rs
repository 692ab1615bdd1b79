//! The source contract (`source-contract.md`): the SSD tables and the only columns read.

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ids, codes, flags and free text: Utf8, taken as written.
    Text,
    /// Dates: Date32, any time of day dropped.
    Date,
}

#[derive(Debug, Clone, Copy)]
pub struct ContractColumn {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct ContractTable {
    pub name: &'static str,
    pub columns: &'static [ContractColumn],
}

const fn t(name: &'static str) -> ContractColumn {
    ContractColumn { name, kind: Kind::Text, required: true }
}
const fn d(name: &'static str) -> ContractColumn {
    ContractColumn { name, kind: Kind::Date, required: true }
}
const fn opt(c: ContractColumn) -> ContractColumn {
    ContractColumn { required: false, ..c }
}

/// Every table of the contract, in the order the report's areas use them.
pub const TABLES: &[ContractTable] = &[
    ContractTable {
        name: "ssd_person",
        columns: &[
            t("pers_person_id"),
            d("pers_dob"),
            opt(d("pers_expected_dob")),
            opt(t("pers_sex")),
            opt(t("pers_ethnicity")),
        ],
    },
    ContractTable {
        name: "ssd_cin_episodes",
        columns: &[
            t("cine_referral_id"),
            t("cine_person_id"),
            d("cine_referral_date"),
            t("cine_referral_nfa"),
            opt(d("cine_close_date")),
            opt(t("cine_referral_team")),
        ],
    },
    ContractTable {
        name: "ssd_cin_assessments",
        columns: &[
            t("cina_assessment_id"),
            t("cina_person_id"),
            t("cina_referral_id"),
            d("cina_assessment_start_date"),
            d("cina_assessment_auth_date"),
            opt(t("cina_assessment_team")),
        ],
    },
    ContractTable {
        name: "ssd_s47_enquiry",
        columns: &[
            t("s47e_s47_enquiry_id"),
            t("s47e_person_id"),
            opt(t("s47e_referral_id")),
            d("s47e_s47_start_date"),
            opt(d("s47e_s47_end_date")),
        ],
    },
    ContractTable {
        name: "ssd_initial_cp_conference",
        columns: &[
            t("icpc_icpc_id"),
            t("icpc_person_id"),
            t("icpc_s47_enquiry_id"),
            d("icpc_icpc_date"),
            t("icpc_icpc_transfer_in"),
            t("icpc_icpc_outcome_cp_flag"),
            opt(d("icpc_icpc_target_date")),
            opt(t("icpc_cp_plan_id")),
        ],
    },
    ContractTable {
        name: "ssd_cin_plans",
        columns: &[
            t("cinp_cin_plan_id"),
            t("cinp_person_id"),
            d("cinp_cin_plan_start_date"),
            d("cinp_cin_plan_end_date"),
            opt(t("cinp_cin_plan_team")),
        ],
    },
    ContractTable {
        name: "ssd_cp_plans",
        columns: &[t("cppl_cp_plan_id"), t("cppl_person_id"), d("cppl_cp_plan_start_date"), d("cppl_cp_plan_end_date")],
    },
    ContractTable {
        name: "ssd_cin_visits",
        columns: &[t("cinv_cin_visit_id"), t("cinv_person_id"), d("cinv_cin_visit_date"), t("cinv_cin_visit_seen")],
    },
    ContractTable {
        name: "ssd_cp_visits",
        columns: &[
            t("cppv_cp_visit_id"),
            t("cppv_person_id"),
            opt(t("cppv_cp_plan_id")),
            d("cppv_cp_visit_date"),
            t("cppv_cp_visit_seen"),
        ],
    },
    ContractTable {
        name: "ssd_involvements",
        columns: &[
            t("invo_involvements_id"),
            t("invo_person_id"),
            t("invo_professional_team"),
            t("invo_professional_role_id"),
            d("invo_involvement_start_date"),
            d("invo_involvement_end_date"),
        ],
    },
    ContractTable {
        name: "ssd_department",
        columns: &[
            t("dept_team_id"),
            t("dept_team_name"),
            opt(t("dept_team_parent_id")),
            opt(t("dept_team_parent_name")),
        ],
    },
    ContractTable {
        name: "ssd_cla_episodes",
        columns: &[
            t("clae_cla_episode_id"),
            t("clae_person_id"),
            d("clae_cla_episode_start_date"),
            t("clae_cla_episode_start_reason"),
            d("clae_cla_episode_ceased_date"),
            t("clae_cla_episode_ceased_reason"),
            d("clae_entered_care_date"),
            opt(t("clae_cla_placement_id")),
        ],
    },
    ContractTable {
        name: "ssd_legal_status",
        columns: &[
            t("lega_legal_status_id"),
            t("lega_person_id"),
            t("lega_legal_status"),
            d("lega_legal_status_start_date"),
            d("lega_legal_status_end_date"),
        ],
    },
    ContractTable {
        name: "ssd_cla_placement",
        columns: &[
            t("clap_cla_placement_id"),
            t("clap_person_id"),
            d("clap_cla_placement_start_date"),
            d("clap_cla_placement_end_date"),
            opt(t("clap_cla_placement_type")),
        ],
    },
    ContractTable {
        name: "ssd_cla_health",
        columns: &[
            t("clah_health_check_id"),
            t("clah_person_id"),
            t("clah_health_check_type"),
            d("clah_health_check_date"),
            t("clah_health_check_status"),
        ],
    },
    ContractTable {
        name: "ssd_care_leavers",
        columns: &[
            t("clea_table_id"),
            t("clea_person_id"),
            t("clea_care_leaver_eligibility"),
            t("clea_care_leaver_in_touch"),
            d("clea_care_leaver_latest_contact"),
            t("clea_care_leaver_accommodation"),
            t("clea_care_leaver_accom_suitable"),
            t("clea_care_leaver_activity"),
        ],
    },
];

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Date => DataType::Date32,
        }
    }
}

impl ContractTable {
    pub fn get(name: &str) -> Option<&'static ContractTable> {
        TABLES.iter().find(|t| t.name == name)
    }

    /// The Arrow schema the table is landed with: every contract column, nullable.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(c.name, c.kind.data_type(), true)).collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_tables_with_unique_columns() {
        assert_eq!(TABLES.len(), 16);
        for t in TABLES {
            let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), t.columns.len(), "{}", t.name);
        }
    }
}
