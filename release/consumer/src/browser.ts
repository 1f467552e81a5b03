import { flow } from './flow.js';

// The page is served from the API's own origin; the login comes in the fragment: #login=…
const login = new URLSearchParams(location.hash.slice(1)).get('login') ?? '';
flow(location.origin, login).then(
  (result) => {
    document.body.dataset.result = JSON.stringify(result);
  },
  (err: unknown) => {
    document.body.dataset.error = String(err);
  },
);
