//! The compiler refuses what the EHR does not declare: Epic R4 declares no `delete` on
//! Patient, so `client.patient().delete(..)` does not compile, while `read` does.

#[test]
fn undeclared_interactions_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/epic_patient_read.rs");
    t.compile_fail("tests/ui/epic_patient_delete.rs");
}
