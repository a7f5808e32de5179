/** The backbone as the engine sees it (defined with the model code; injected so tests can swap it). */
export type { DecodeRequest, PhotoEmbedder } from '../embed/photo-embedder';
export type { DecodedPhoto } from '../decode/decode-image';
