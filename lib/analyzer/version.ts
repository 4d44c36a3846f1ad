import packageJson from "../../package.json" with { type: "json" };

export const poolguardVersion: string = packageJson.version;
export const informationUri = "https://github.com/poolguard/poolguard";
