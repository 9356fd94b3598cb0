"""HTTP plumbing shared by the endpoints: responses, security headers, cookies, CORS, pages."""
