// Epic R4 declares read on Patient: this compiles.
async fn read_patient(client: &fhirforge_epic::Client) {
    let _ = client.patient().read("erXuFYUfucBZaryVksYEcMg3").await;
}

fn main() {
    let _ = read_patient;
}
