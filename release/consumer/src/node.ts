import { flow } from './flow.js';

const [baseUrl, login] = process.argv.slice(2);
if (!baseUrl || !login) throw new Error('usage: node dist/node.js <API URL> <login>');
console.log(JSON.stringify(await flow(baseUrl, login)));
