import type { ChangeSource, PortalChange } from './changes.ts';
import type { Clock } from './clock.ts';
import type { ContactRecord } from './contact.ts';
import { contactNotFound, HubSpotError, validationError } from './errors.ts';
import { COMPANIES } from './names.ts';
import type { Portal } from './portal.ts';

export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED';

export interface AssociationTypeDefinition {
  typeId: number;
  category: AssociationCategory;
  /** null for the unlabeled association. */
  label: string | null;
}

/**
 * Contact → company association types. HubSpot defines 1 (primary company) and 279 (unlabeled); labels a
 * portal adds are USER_DEFINED with ids of their own
 * (https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide). Type 1's label has been
 * "Contact with Primary Company" since February 2024, and HubSpot warns that labels may change again
 * (https://developers.hubspot.com/changelog/changes-to-primary-labels-for-hubspot-defined-association-labels).
 */
export const PRIMARY_TYPE_ID = 1;
export const UNLABELED_TYPE_ID = 279;
export const CONTACT_TO_COMPANY_TYPES: readonly AssociationTypeDefinition[] = [
  { typeId: PRIMARY_TYPE_ID, category: 'HUBSPOT_DEFINED', label: 'Contact with Primary Company' },
  { typeId: UNLABELED_TYPE_ID, category: 'HUBSPOT_DEFINED', label: null },
  { typeId: 101, category: 'USER_DEFINED', label: 'Decision maker' },
  { typeId: 102, category: 'USER_DEFINED', label: 'Billing contact' },
];
const TYPES = new Map(CONTACT_TO_COMPANY_TYPES.map((type) => [type.typeId, type]));

export interface CompanyRecord {
  id: number;
  name: string;
  domain: string;
}

/** Company ids sit above 2^31, as real portals' do: an int32 anywhere on the way would break them. */
export const COMPANY_ID_BASE = 2 ** 31 + 1_000_000;

export interface AssociatedCompany {
  toObjectId: number;
  types: AssociationTypeDefinition[];
}

export const companyNotFound = (id: string) =>
  new HubSpotError(404, 'OBJECT_NOT_FOUND', 'resource not found', { context: { id: [id] } });

export const unknownAssociationType = (typeId: unknown, category: unknown) =>
  validationError(
    `association type ${String(typeId)} (${String(category)}) is not defined from contacts to companies`,
  );

type ChangeListener = (change: PortalChange) => void;

/**
 * The portal's companies (a fixed handful, enough to associate with) and every contact ↔ company
 * association, kept per contact. A change to a HubSpot-defined association type is reported to listeners,
 * which turn it into `contact.associationChange` webhooks.
 */
export function createAssociations(deps: { portal: Portal; clock: Clock }) {
  const { portal, clock } = deps;
  const companies: CompanyRecord[] = COMPANIES.map((company, index) => ({
    id: COMPANY_ID_BASE + index,
    ...company,
  }));
  const companiesById = new Map(companies.map((company) => [company.id, company]));
  /** contact id → company id → type ids. */
  const byContact = new Map<number, Map<number, Set<number>>>();
  const listeners: ChangeListener[] = [];
  /** Per contact, the last stamp given: HubSpot stamps a record's changes in strictly increasing ms. */
  const lastStamp = new Map<number, number>();

  function stamp(contactId: number, at: number): number {
    const next = Math.max(at, (lastStamp.get(contactId) ?? 0) + 1);
    lastStamp.set(contactId, next);
    return next;
  }

  function liveContact(rawId: string | number): ContactRecord {
    const id = Number(rawId);
    const contact = Number.isSafeInteger(id) ? portal.resolve(id) : undefined;
    if (!contact || contact.archived) throw contactNotFound(String(rawId));
    return contact;
  }

  function company(rawId: string | number): CompanyRecord {
    const found = companiesById.get(Number(rawId));
    if (!found) throw companyNotFound(String(rawId));
    return found;
  }

  function typesBetween(contactId: number, companyId: number): Set<number> {
    let companiesOf = byContact.get(contactId);
    if (!companiesOf) {
      companiesOf = new Map();
      byContact.set(contactId, companiesOf);
    }
    let types = companiesOf.get(companyId);
    if (!types) {
      types = new Set();
      companiesOf.set(companyId, types);
    }
    return types;
  }

  function emit(
    contactId: number,
    companyId: number,
    typeId: number,
    removed: boolean,
    source: ChangeSource,
    at: number,
  ): void {
    const type = TYPES.get(typeId);
    // Webhooks carry only CONTACT_TO_COMPANY and a primary flag, so a USER_DEFINED label change has no event
    // of its own that could be told apart from the unlabeled one (HUBSPOT.md: associationChange fields).
    if (type?.category !== 'HUBSPOT_DEFINED') return;
    const change: PortalChange = {
      kind: 'associationChanged',
      at: stamp(contactId, at),
      source,
      contactId,
      companyId,
      associationTypeId: typeId,
      primary: typeId === PRIMARY_TYPE_ID,
      removed,
    };
    for (const listener of listeners) listener(change);
  }

  function primaryCompanyOf(contactId: number): number | undefined {
    for (const [companyId, types] of byContact.get(contactId) ?? []) {
      if (types.has(PRIMARY_TYPE_ID)) return companyId;
    }
    return undefined;
  }

  /** Adds these types between the pair; the unlabeled one always comes with any other, as in HubSpot. */
  function add(contactId: number, companyId: number, typeIds: number[], source: ChangeSource, at: number) {
    const wanted = new Set([UNLABELED_TYPE_ID, ...typeIds]);
    if (wanted.has(PRIMARY_TYPE_ID)) {
      // One primary company per contact: a new one replaces the old.
      const previous = primaryCompanyOf(contactId);
      if (previous !== undefined && previous !== companyId) {
        typesBetween(contactId, previous).delete(PRIMARY_TYPE_ID);
        emit(contactId, previous, PRIMARY_TYPE_ID, true, source, at);
      }
    }
    const types = typesBetween(contactId, companyId);
    for (const typeId of [...wanted].sort((a, b) => b - a)) {
      if (types.has(typeId)) continue;
      types.add(typeId);
      emit(contactId, companyId, typeId, false, source, at);
    }
  }

  function removeAll(contactId: number, companyId: number, source: ChangeSource, at: number): void {
    const types = byContact.get(contactId)?.get(companyId);
    if (!types) return;
    byContact.get(contactId)?.delete(companyId);
    for (const typeId of [...types].sort((a, b) => a - b))
      emit(contactId, companyId, typeId, true, source, at);
  }

  function listOf(contactId: number): AssociatedCompany[] {
    return [...(byContact.get(contactId) ?? [])]
      .filter(([, types]) => types.size > 0)
      .sort(([a], [b]) => a - b)
      .map(([toObjectId, types]) => ({
        toObjectId,
        types: [...types]
          .sort((a, b) => a - b)
          .map((typeId) => TYPES.get(typeId) as AssociationTypeDefinition),
      }));
  }

  /** A merge leaves the survivor with every company of the records it absorbed; it keeps its own primary. */
  function moveOnMerge(change: PortalChange & { kind: 'merged' }): void {
    const absorbed = [...change.mergedObjectIds];
    if (change.newObjectId !== null) absorbed.unshift(change.primaryObjectId);
    for (const loserId of absorbed) {
      for (const { toObjectId, types } of listOf(loserId)) {
        const keepsPrimary = primaryCompanyOf(change.survivorId) === undefined;
        const typeIds = types
          .map((type) => type.typeId)
          .filter((typeId) => typeId !== PRIMARY_TYPE_ID || keepsPrimary);
        add(change.survivorId, toObjectId, typeIds, change.source, change.at);
      }
      byContact.delete(loserId);
    }
  }

  portal.onChange((change) => {
    if (change.kind === 'merged') moveOnMerge(change);
  });

  return {
    companies: (): readonly CompanyRecord[] => companies,
    company,
    liveContact,
    typeOf: (typeId: number, category: string): AssociationTypeDefinition => {
      const type = TYPES.get(typeId);
      if (!type || type.category !== category) throw unknownAssociationType(typeId, category);
      return type;
    },

    /** What is held for this id, whatever the record: batch reads answer unknown ids with nothing. */
    held: (rawContactId: string): AssociatedCompany[] =>
      /^\d+$/.test(rawContactId) ? listOf(Number(rawContactId)) : [],

    /** The contact's companies with their association types, by company id. */
    list: (rawContactId: string | number): AssociatedCompany[] => listOf(liveContact(rawContactId).id),

    /**
     * HubSpot's "default" association: unlabeled, and primary too when the contact has no primary company yet
     * (https://developers.hubspot.com/docs/api/crm/associations, "Associate records without a label").
     */
    associateDefault(
      rawContactId: string | number,
      rawCompanyId: string | number,
      source: ChangeSource,
      at = clock.now(),
    ): { contactId: number; companyId: number; typeIds: number[] } {
      const contact = liveContact(rawContactId);
      const target = company(rawCompanyId);
      const typeIds = primaryCompanyOf(contact.id) === undefined ? [PRIMARY_TYPE_ID] : [];
      add(contact.id, target.id, typeIds, source, at);
      return { contactId: contact.id, companyId: target.id, typeIds: [UNLABELED_TYPE_ID, ...typeIds] };
    },

    /** Adds the given types between the pair (validated first: one unknown type changes nothing). */
    associate(
      rawContactId: string | number,
      rawCompanyId: string | number,
      typeIds: number[],
      source: ChangeSource,
      at = clock.now(),
    ): { contactId: number; companyId: number; types: AssociationTypeDefinition[] } {
      const contact = liveContact(rawContactId);
      const target = company(rawCompanyId);
      add(contact.id, target.id, typeIds, source, at);
      return {
        contactId: contact.id,
        companyId: target.id,
        types: listOf(contact.id).find((entry) => entry.toObjectId === target.id)?.types ?? [],
      };
    },

    /** Removes every association type between the pair; nothing to remove is not an error. */
    dissociate(
      rawContactId: string | number,
      rawCompanyId: string | number,
      source: ChangeSource,
      at = clock.now(),
    ) {
      const contact = liveContact(rawContactId);
      const target = company(rawCompanyId);
      removeAll(contact.id, target.id, source, at);
    },

    /** Every association held, for the truth endpoint. */
    all(): { contactId: number; companyId: number; types: AssociationTypeDefinition[] }[] {
      return [...byContact.keys()]
        .sort((a, b) => a - b)
        .flatMap((contactId) =>
          listOf(contactId).map(({ toObjectId, types }) => ({ contactId, companyId: toObjectId, types })),
        );
    },

    /** A random live contact's random company pair, for activity; null when no contact has a company. */
    randomAssociated(pick: <T>(items: readonly T[]) => T): { contactId: number; companyId: number } | null {
      const held = [...byContact].filter(([contactId, companiesOf]) => {
        const contact = portal.get(contactId);
        return contact !== undefined && !contact.archived && companiesOf.size > 0;
      });
      if (held.length === 0) return null;
      const [contactId, companiesOf] = pick(held);
      return { contactId, companyId: pick([...companiesOf.keys()]) };
    },

    onChange(listener: ChangeListener): void {
      listeners.push(listener);
    },
  };
}

export type Associations = ReturnType<typeof createAssociations>;
