// Epic R4 declares no delete on Patient: this must not compile.
async fn delete_patient(client: &fhirforge_epic::Client) {
    let _ = client.patient().delete("erXuFYUfucBZaryVksYEcMg3").await;
}

fn main() {
    let _ = delete_patient;
}
