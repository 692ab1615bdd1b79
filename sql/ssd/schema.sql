-- The Standard Safeguarding Dataset tables as SQL Server holds them (Data to Insight's SSD
-- v1.4.5 types), for the SQL Server stand-in. Only the source contract's columns are ever
-- extracted; the others (names, addresses) are here so tests can prove they never leave.

CREATE TABLE ssd_development.ssd_person (
    pers_legacy_id          NVARCHAR(48),
    pers_person_id          NVARCHAR(48) PRIMARY KEY,
    pers_forename           NVARCHAR(100),
    pers_surname            NVARCHAR(255),
    pers_sex                NVARCHAR(20),
    pers_gender             NVARCHAR(10),
    pers_ethnicity          NVARCHAR(48),
    pers_dob                DATETIME,
    pers_expected_dob       DATETIME,
    pers_death_date         DATETIME,
    pers_nationality        NVARCHAR(48)
);

CREATE TABLE ssd_development.ssd_cin_episodes (
    cine_referral_id                NVARCHAR(48) PRIMARY KEY,
    cine_person_id                  NVARCHAR(48),
    cine_referral_date              DATETIME,
    cine_cin_primary_need_code      NVARCHAR(3),
    cine_referral_source_code       NVARCHAR(48),
    cine_referral_source_desc       NVARCHAR(255),
    cine_referral_outcome_json      NVARCHAR(4000),
    cine_referral_nfa               NCHAR(1),
    cine_close_reason               NVARCHAR(100),
    cine_close_date                 DATETIME,
    cine_referral_team              NVARCHAR(48),
    cine_referral_worker_id         NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_cin_assessments (
    cina_assessment_id              NVARCHAR(48) PRIMARY KEY,
    cina_person_id                  NVARCHAR(48),
    cina_referral_id                NVARCHAR(48),
    cina_assessment_start_date      DATETIME,
    cina_assessment_child_seen      NCHAR(1),
    cina_assessment_auth_date       DATETIME,
    cina_assessment_outcome_json    NVARCHAR(1000),
    cina_assessment_outcome_nfa     NCHAR(1),
    cina_assessment_team            NVARCHAR(48),
    cina_assessment_worker_id       NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_s47_enquiry (
    s47e_s47_enquiry_id             NVARCHAR(48) PRIMARY KEY,
    s47e_referral_id                NVARCHAR(48),
    s47e_person_id                  NVARCHAR(48),
    s47e_s47_start_date             DATETIME,
    s47e_s47_end_date               DATETIME,
    s47e_s47_nfa                    NCHAR(1),
    s47e_s47_outcome_json           NVARCHAR(1000),
    s47e_s47_completed_by_team      NVARCHAR(48),
    s47e_s47_completed_by_worker_id NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_initial_cp_conference (
    icpc_icpc_id                    NVARCHAR(48) PRIMARY KEY,
    icpc_icpc_meeting_id            NVARCHAR(48),
    icpc_s47_enquiry_id             NVARCHAR(48),
    icpc_person_id                  NVARCHAR(48),
    icpc_cp_plan_id                 NVARCHAR(48),
    icpc_referral_id                NVARCHAR(48),
    icpc_icpc_transfer_in           NCHAR(1),
    icpc_icpc_target_date           DATETIME,
    icpc_icpc_date                  DATETIME,
    icpc_icpc_outcome_cp_flag       NCHAR(1),
    icpc_icpc_outcome_json          NVARCHAR(1000),
    icpc_icpc_team                  NVARCHAR(48),
    icpc_icpc_worker_id             NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_cin_plans (
    cinp_cin_plan_id                NVARCHAR(48) PRIMARY KEY,
    cinp_referral_id                NVARCHAR(48),
    cinp_person_id                  NVARCHAR(48),
    cinp_cin_plan_start_date        DATETIME,
    cinp_cin_plan_end_date          DATETIME,
    cinp_cin_plan_team              NVARCHAR(48),
    cinp_cin_plan_worker_id         NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_cp_plans (
    cppl_cp_plan_id                 NVARCHAR(48) PRIMARY KEY,
    cppl_referral_id                NVARCHAR(48),
    cppl_icpc_id                    NVARCHAR(48),
    cppl_person_id                  NVARCHAR(48),
    cppl_cp_plan_start_date         DATETIME,
    cppl_cp_plan_end_date           DATETIME,
    cppl_cp_plan_ola                NCHAR(1),
    cppl_cp_plan_initial_category   NVARCHAR(100),
    cppl_cp_plan_latest_category    NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_cin_visits (
    cinv_cin_visit_id               NVARCHAR(48) PRIMARY KEY,
    cinv_person_id                  NVARCHAR(48),
    cinv_cin_visit_date             DATETIME,
    cinv_cin_visit_seen             NCHAR(1),
    cinv_cin_visit_seen_alone       NCHAR(1),
    cinv_cin_visit_bedroom          NCHAR(1)
);

CREATE TABLE ssd_development.ssd_cp_visits (
    cppv_cp_visit_id                NVARCHAR(48) PRIMARY KEY,
    cppv_person_id                  NVARCHAR(48),
    cppv_cp_plan_id                 NVARCHAR(48),
    cppv_cp_visit_date              DATETIME,
    cppv_cp_visit_seen              NCHAR(1),
    cppv_cp_visit_seen_alone        NCHAR(1),
    cppv_cp_visit_bedroom           NCHAR(1)
);

CREATE TABLE ssd_development.ssd_involvements (
    invo_involvements_id            NVARCHAR(48) PRIMARY KEY,
    invo_professional_id            NVARCHAR(48),
    invo_professional_role_id       NVARCHAR(200),
    invo_professional_team          NVARCHAR(48),
    invo_person_id                  NVARCHAR(48),
    invo_involvement_start_date     DATETIME,
    invo_involvement_end_date       DATETIME,
    invo_worker_change_reason       NVARCHAR(200),
    invo_referral_id                NVARCHAR(48)
);

CREATE TABLE ssd_development.ssd_department (
    dept_team_id                    NVARCHAR(48) PRIMARY KEY,
    dept_team_name                  NVARCHAR(255),
    dept_team_parent_id             NVARCHAR(48),
    dept_team_parent_name           NVARCHAR(255)
);

CREATE TABLE ssd_development.ssd_cla_episodes (
    clae_cla_episode_id             NVARCHAR(48) PRIMARY KEY,
    clae_person_id                  NVARCHAR(48),
    clae_cla_placement_id           NVARCHAR(48),
    clae_cla_episode_start_date     DATETIME,
    clae_cla_episode_start_reason   NVARCHAR(100),
    clae_cla_primary_need_code      NVARCHAR(3),
    clae_cla_episode_ceased_date    DATETIME,
    clae_cla_episode_ceased_reason  NVARCHAR(255),
    clae_cla_id                     NVARCHAR(48),
    clae_referral_id                NVARCHAR(48),
    clae_cla_last_iro_contact_date  DATETIME,
    clae_entered_care_date          DATETIME
);

CREATE TABLE ssd_development.ssd_legal_status (
    lega_legal_status_id            NVARCHAR(48) PRIMARY KEY,
    lega_person_id                  NVARCHAR(48),
    lega_legal_status               NVARCHAR(100),
    lega_legal_status_start_date    DATETIME,
    lega_legal_status_end_date      DATETIME
);

CREATE TABLE ssd_development.ssd_cla_placement (
    clap_cla_placement_id           NVARCHAR(48) PRIMARY KEY,
    clap_cla_id                     NVARCHAR(48),
    clap_person_id                  NVARCHAR(48),
    clap_cla_placement_start_date   DATETIME,
    clap_cla_placement_type         NVARCHAR(100),
    clap_cla_placement_urn          NVARCHAR(48),
    clap_cla_placement_distance     FLOAT,
    clap_cla_placement_provider     NVARCHAR(48),
    clap_cla_placement_postcode     NVARCHAR(8),
    clap_cla_placement_end_date     DATETIME,
    clap_cla_placement_change_reason NVARCHAR(100)
);

CREATE TABLE ssd_development.ssd_cla_health (
    clah_health_check_id            NVARCHAR(48) PRIMARY KEY,
    clah_person_id                  NVARCHAR(48),
    clah_health_check_type          NVARCHAR(500),
    clah_health_check_date          DATETIME,
    clah_health_check_status        NVARCHAR(48)
);

CREATE TABLE ssd_development.ssd_care_leavers (
    clea_table_id                   NVARCHAR(48) PRIMARY KEY,
    clea_person_id                  NVARCHAR(48),
    clea_care_leaver_eligibility    NVARCHAR(100),
    clea_care_leaver_in_touch       NVARCHAR(100),
    clea_care_leaver_latest_contact DATETIME,
    clea_care_leaver_accommodation  NVARCHAR(100),
    clea_care_leaver_accom_suitable NVARCHAR(100),
    clea_care_leaver_activity       NVARCHAR(100),
    clea_pathway_plan_review_date   DATETIME,
    clea_care_leaver_personal_advisor NVARCHAR(100),
    clea_care_leaver_allocated_team NVARCHAR(48),
    clea_care_leaver_worker_id      NVARCHAR(100)
);
