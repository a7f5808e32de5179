/** A region as fractions (0..1) of the displayed, EXIF-oriented image. Dependency-free: the contract and the renderer use it too. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
