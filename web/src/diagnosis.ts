/** Diagnosis code sets, as `crypdoc_types::DiagnosisSet`: the integers are on-chain protocol. */
export const DIAGNOSIS_SETS: Record<number, readonly string[]> = {
  2: ["no-tumor", "tumor"],
  4: ["no-tumor", "glioma", "meningioma", "pituitary"],
};

export function diagnosisNames(numClasses: number): readonly string[] {
  return (
    DIAGNOSIS_SETS[numClasses] ?? Array.from({ length: numClasses }, (_, i) => `class ${i}`)
  );
}

export function diagnosisName(numClasses: number, code: number): string {
  return diagnosisNames(numClasses)[code] ?? `class ${code}`;
}
