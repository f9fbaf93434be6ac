// Dependencies of a new run, chosen among the worksheet's bundles: a checkbox each, and the key
// (the path in the run's directory) that defaults to the bundle's name, as `cl run name:name`.
import type { Bundle } from '../../../src/protocol/index.js';

export interface PickedDependency {
  uuid: string;
  key: string;
}

interface PickerProps {
  bundles: readonly Bundle[];
  picked: readonly PickedDependency[];
  onChange: (picked: PickedDependency[]) => void;
  nameOf: (bundle: Bundle) => string;
}

export function DependencyPicker({ bundles, picked, onChange, nameOf }: PickerProps) {
  if (bundles.length === 0) return null;
  const toggle = (bundle: Bundle, on: boolean) =>
    onChange(on ? [...picked, { uuid: bundle.uuid, key: nameOf(bundle) }] : picked.filter((p) => p.uuid !== bundle.uuid));
  const rename = (uuid: string, key: string) => onChange(picked.map((p) => (p.uuid === uuid ? { ...p, key } : p)));
  return (
    <fieldset className="dependency-picker">
      <legend>Dependencies</legend>
      <ul>
        {bundles.map((bundle) => {
          const choice = picked.find((p) => p.uuid === bundle.uuid);
          const id = `dep-${bundle.uuid}`;
          return (
            <li key={bundle.uuid}>
              <input id={id} type="checkbox" checked={choice !== undefined} onChange={(e) => toggle(bundle, e.target.checked)} />{' '}
              <label htmlFor={id}>{nameOf(bundle)}</label>{' '}
              <code className="subtle">{bundle.uuid.slice(0, 10)}</code>
              {choice && (
                <>
                  {' '}
                  <label htmlFor={`${id}-key`}>as key</label>{' '}
                  <input id={`${id}-key`} value={choice.key} onChange={(e) => rename(bundle.uuid, e.target.value)} />
                </>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
