// A real OAuth2 authorization server (oidc-provider) configured for SMART Backend Services and
// client secrets, for fhirforge's end-to-end tests. Started by `fhirforge_testkit::oauth`.
//
// Input: FHIRFORGE_OAUTH_CONFIG = path of a JSON file written by the test:
//   {
//     "audience": "http://127.0.0.1:PORT",        // the FHIR base the access tokens are for
//     "accessTokenTtl": 3600,                      // seconds (short values make expiry testable)
//     "maxAssertionLifetime": 300,                 // client assertion exp at most this far ahead
//     "scopes": ["system/*.read", ...],            // scopes the resource server knows
//     "clients": [ { "client_id": "...", "token_endpoint_auth_method": "private_key_jwt",
//                    "token_endpoint_auth_signing_alg": "RS384", "jwks": {"keys": [...]},
//                    "scope": "system/*.read" },
//                  { "client_id": "...", "token_endpoint_auth_method": "client_secret_basic",
//                    "client_secret": "...", "scope": "..." } ]
//     "interactive": true,                         // optional: users sign in (SMART App Launch)
//     "launchPatient": "123"                       // optional: the patient in launch context
//   }
// Listens on 127.0.0.1 on a free port and prints one line `READY {json}` with the issuer, the
// token endpoint and the JWKS URI once it accepts requests.
//
// Deliberate additions to oidc-provider's defaults (see shared/peers.md):
// * a client assertion whose `exp` is more than `maxAssertionLifetime` seconds ahead is rejected
//   (SMART Backend Services requires at most five minutes);
// * a client registered for one secret method is refused when it uses the other one;
// * token endpoint errors carry oidc-provider's internal `error_detail` in `error_description`
//   (as EHRs such as Epic describe the failure), so the client's error mapping can be tested;
// * `GET /__fhirforge/token-requests` returns `{"count": N}`: every POST to the token endpoint,
//   successful or not, so single-flight refresh can be asserted at the server.
// With "interactive" (SMART App Launch, authorization code + PKCE):
// * oidc-provider's development login and consent pages are on (any login and password; the
//   tests fill the forms in with an HTTP client), and so is token revocation (RFC 7009);
// * the account's `fhirUser` claim (`<audience>/Practitioner/<login>`) is in the id_token;
// * an authorization request asking for `offline_access` gets `prompt=consent` added, since
//   oidc-provider otherwise drops that scope (OpenID Connect Core §11) while SMART apps do not
//   send a prompt;
// * a token response whose scope holds `launch/patient` gets SMART's launch context
//   (`patient`, `need_patient_banner`), which oidc-provider does not know about.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const configPath = process.env.FHIRFORGE_OAUTH_CONFIG;
if (!configPath) {
  console.error('FHIRFORGE_OAUTH_CONFIG is not set');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const audience = config.audience;
const accessTokenTtl = Number(config.accessTokenTtl ?? 3600);
const maxAssertionLifetime = Number(config.maxAssertionLifetime ?? 300);
const clients = config.clients ?? [];
const interactive = Boolean(config.interactive);
const launchPatient = config.launchPatient ?? null;

const knownScopes = new Set(config.scopes ?? []);
for (const client of clients) {
  for (const s of (client.scope ?? '').split(' ').filter(Boolean)) knownScopes.add(s);
}
const methodOf = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));

// The server's own signing key for JWT access tokens (the gate verifies them from /jwks).
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
signingJwk.kid = await jose.calculateJwkThumbprint(signingJwk);

let tokenRequests = 0;

const server = createServer();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingJwk] },
    scopes: [...knownScopes],
    clientAuthMethods: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
    },
    claims: { openid: ['sub'], fhirUser: ['fhirUser'] },
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, fhirUser: `${audience}/Practitioner/${sub}` };
        },
      };
    },
    features: {
      devInteractions: { enabled: interactive },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: interactive },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== audience) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            scope: [...knownScopes].join(' '),
            audience,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: { ClientCredentials: accessTokenTtl, AccessToken: accessTokenTtl },
    async assertJwtClientAuthClaimsAndHeader(_ctx, claims) {
      const now = Math.floor(Date.now() / 1000);
      if (typeof claims.exp === 'number' && claims.exp - now > maxAssertionLifetime) {
        throw new errors.InvalidClientAuth(
          `client assertion exp is more than ${maxAssertionLifetime} seconds in the future`,
        );
      }
    },
  });
  provider.proxy = false;

  // Why a failure happened, recorded by the event and copied into the response below.
  provider.on('grant.error', (ctx, err) => {
    if (err && err.error_detail) ctx.state.fhirforgeDetail = String(err.error_detail);
  });

  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/__fhirforge/token-requests') {
      ctx.body = { count: tokenRequests };
      return;
    }
    if (interactive && ctx.method === 'GET' && ctx.path === '/auth') {
      const scope = String(ctx.query.scope ?? '').split(' ');
      if (scope.includes('offline_access') && !ctx.query.prompt) {
        ctx.query = { ...ctx.query, prompt: 'consent' };
      }
    }
    const isToken = ctx.method === 'POST' && ctx.path === '/token';
    if (isToken) {
      tokenRequests += 1;
      // Strict secret method: a client registered for client_secret_post must not use basic.
      const auth = ctx.get('authorization');
      if (auth.toLowerCase().startsWith('basic ')) {
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const id = decodeURIComponent(decoded.split(':')[0] ?? '');
        if (methodOf.get(id) === 'client_secret_post') {
          ctx.status = 401;
          ctx.body = {
            error: 'invalid_client',
            error_description: 'client authentication failed: this client is registered for client_secret_post',
          };
          return;
        }
      }
    }
    await next();
    if (isToken && launchPatient && ctx.status === 200 && ctx.body && ctx.body.access_token
        && String(ctx.body.scope ?? '').split(' ').includes('launch/patient')) {
      ctx.body = { ...ctx.body, patient: launchPatient, need_patient_banner: true };
    }
    if (isToken && ctx.body && typeof ctx.body === 'object' && ctx.body.error && ctx.state.fhirforgeDetail) {
      const detail = ctx.state.fhirforgeDetail;
      if (!String(ctx.body.error_description ?? '').includes(detail)) {
        ctx.body = {
          ...ctx.body,
          error_description: `${ctx.body.error_description ?? ctx.body.error}: ${detail}`,
        };
      }
    }
  });

  server.on('request', provider.callback());
  console.log(`READY ${JSON.stringify({
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    revocation_endpoint: interactive ? `${issuer}/token/revocation` : null,
  })}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
