/** Writes the bundled sample image: `npm run build:images [DEST]` (default images/sample.tar). */
import { buildSample } from './sample-image.js';

await buildSample(process.argv[2] ?? 'images/sample.tar');
