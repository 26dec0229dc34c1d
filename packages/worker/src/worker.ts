import { expose } from 'comlink';
import { installKalamErrorTransfer } from './transfer';
import { createWorkerApi } from './worker-api';

// The module Web Worker entry: one engine per worker, served over Comlink.
installKalamErrorTransfer();
expose(createWorkerApi());
