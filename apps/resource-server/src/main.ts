import { buildResourceServer } from './app.js';

const { API_URL = 'http://127.0.0.1:5000', JWT_ISSUER, JWT_AUDIENCE, PORT = '5100' } = process.env;
if (!JWT_ISSUER || !JWT_AUDIENCE) {
  console.error('Set JWT_ISSUER and JWT_AUDIENCE as the Api users server has them');
  process.exit(1);
}
const app = buildResourceServer({
  issuer: JWT_ISSUER,
  audience: JWT_AUDIENCE,
  jwksUrl: `${API_URL}/.well-known/jwks.json`,
});
await app.listen({ port: Number(PORT), host: '127.0.0.1' });
console.log(`resource server on http://127.0.0.1:${PORT}/hello, trusting ${API_URL}`);
