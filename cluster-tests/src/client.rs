//! A small client for Druid's HTTP APIs.

use std::time::{Duration, Instant};

use serde_json::Value;

#[derive(Clone)]
pub struct DruidClient {
    http: reqwest::Client,
    base: String,
}

impl DruidClient {
    pub fn new(base: &str) -> DruidClient {
        DruidClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("http client"),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// POSTs a raw JSON body; returns the status, the response headers and the body text.
    async fn send_post(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {path} failed: {err}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.text().await.expect("response body"),
        )
    }

    /// POSTs a raw body; returns the status and the body parsed as JSON (or as a string).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let (status, _, text) = self.send_post(path, body).await;
        (status, parse_body(text))
    }

    /// POSTs JSON; returns the status, the `X-Druid-Query-Id` header and the body.
    pub async fn post_with_query_id(
        &self,
        path: &str,
        body: &Value,
    ) -> (u16, Option<String>, Value) {
        let (status, headers, text) = self.send_post(path, body.to_string()).await;
        let query_id = headers
            .get("X-Druid-Query-Id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        (status, query_id, parse_body(text))
    }

    /// POSTs JSON; returns the status, the response headers and the body text (for Druid
    /// SQL's text result formats).
    pub async fn post_text(
        &self,
        path: &str,
        body: &Value,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        self.send_post(path, body.to_string()).await
    }

    /// DELETEs a path; returns the status and the body text.
    pub async fn delete(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|err| panic!("DELETE {path} failed: {err}"));
        let status = response.status().as_u16();
        (status, response.text().await.expect("response body"))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path} failed: {err}"));
        let status = response.status().as_u16();
        let text = response.text().await.expect("response body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Runs a native query that must succeed.
    pub async fn query(&self, query: &Value) -> Value {
        let (status, body) = self.post("/druid/v2", query).await;
        assert_eq!(status, 200, "query failed: {body}\nquery: {query}");
        body
    }

    /// Submits a task and waits for it to finish; returns its final status object.
    pub async fn run_task(&self, spec: &Value, timeout: Duration) -> Value {
        let (status, body) = self.post("/druid/indexer/v1/task", spec).await;
        assert_eq!(status, 200, "task rejected: {body}");
        let id = body["task"].as_str().expect("task id").to_string();
        let deadline = Instant::now() + timeout;
        loop {
            let (_, status) = self
                .get(&format!("/druid/indexer/v1/task/{id}/status"))
                .await;
            let code = status["status"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if code == "SUCCESS" || code == "FAILED" {
                return status["status"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "task {id} still {code} after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Repeats `query` until `accept` holds for its result (or panics after `timeout`).
    pub async fn query_until(
        &self,
        query: &Value,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let (status, body) = self.post("/druid/v2", query).await;
            if status == 200 && accept(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "query never gave the expected result; last: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A response body as JSON, or as a JSON string when it is not JSON.
fn parse_body(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}
