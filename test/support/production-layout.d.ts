export declare const ROUNDTRIP_MANIFESTS: string;

export declare function presetImagesAsProduction(envId: string): Promise<Record<string, string>>;

export declare function writeRoundtripMirrorConfig(
  dir: string,
  images: Record<string, string>,
  options?: { from?: string | null },
): Promise<void>;
