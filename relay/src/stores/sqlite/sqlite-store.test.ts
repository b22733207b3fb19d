import { SqliteStore } from './sqlite-store.js';
import { storeContract } from '../store-contract.js';

storeContract('SQLite (:memory:)', async () => new SqliteStore(':memory:'));
