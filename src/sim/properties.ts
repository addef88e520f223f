/**
 * The contact property definitions the simulated portal knows, in the shape of
 * `GET /crm/v3/properties/contacts` (https://developers.hubspot.com/docs/api/crm/properties).
 * Writes to unknown or read-only properties are refused, as HubSpot refuses them.
 */
export type PropertyType =
  | 'string'
  | 'number'
  | 'datetime'
  | 'date'
  | 'enumeration'
  | 'bool'
  | 'phone_number';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  hubspotDefined: boolean;
  readOnly: boolean;
  /** Whether a webhook `contact.propertyChange` subscription exists for it. */
  subscribed: boolean;
}

/** A portal's live definitions by name, as code that reads and writes contact properties consults them. */
export interface PropertyLookup {
  find(name: string): PropertyDefinition | undefined;
}

export const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
] as const;

export const LEAD_STATUSES = [
  'NEW',
  'OPEN',
  'IN_PROGRESS',
  'OPEN_DEAL',
  'UNQUALIFIED',
  'ATTEMPTED_TO_CONTACT',
  'CONNECTED',
  'BAD_TIMING',
] as const;

export const CUSTOMER_TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;

const options = (values: readonly string[]) =>
  values.map((value, index) => ({ label: labelOf(value), value, displayOrder: index, hidden: false }));

function labelOf(value: string): string {
  return value
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

interface Spec {
  name: string;
  label: string;
  type?: PropertyType;
  fieldType?: string;
  group?: string;
  values?: readonly string[];
  custom?: boolean;
  readOnly?: boolean;
}

const specs: Spec[] = [
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', readOnly: true },
  { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', readOnly: true },
  {
    name: 'lastmodifieddate',
    label: 'Last Modified Date',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  {
    name: 'hs_merged_object_ids',
    label: 'Merged Contact IDs',
    type: 'enumeration',
    fieldType: 'checkbox',
    readOnly: true,
  },
  {
    name: 'hs_additional_emails',
    label: 'Additional email addresses',
    type: 'enumeration',
    fieldType: 'checkbox',
    readOnly: true,
  },
  // Engagement: HubSpot calculates these from email, web and CRM activity; apps cannot write them and they
  // move lastmodifieddate without a webhook.
  {
    name: 'hs_email_last_open_date',
    label: 'Last marketing email open date',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  {
    name: 'hs_email_last_click_date',
    label: 'Last marketing email click date',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  {
    name: 'hs_email_open',
    label: 'Marketing emails opened',
    type: 'number',
    fieldType: 'number',
    readOnly: true,
  },
  {
    name: 'hs_analytics_num_page_views',
    label: 'Number of Pageviews',
    type: 'number',
    fieldType: 'number',
    readOnly: true,
  },
  {
    name: 'hs_analytics_last_timestamp',
    label: 'Time Last Seen',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  {
    name: 'hs_latest_source_timestamp',
    label: 'Latest Traffic Source Date',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  {
    name: 'num_notes',
    label: 'Number of Sales Activities',
    type: 'number',
    fieldType: 'number',
    readOnly: true,
  },
  {
    name: 'notes_last_updated',
    label: 'Last Activity Date',
    type: 'datetime',
    fieldType: 'date',
    readOnly: true,
  },
  { name: 'email', label: 'Email' },
  { name: 'firstname', label: 'First Name' },
  { name: 'lastname', label: 'Last Name' },
  { name: 'phone', label: 'Phone Number', fieldType: 'phonenumber' },
  { name: 'mobilephone', label: 'Mobile Phone Number', fieldType: 'phonenumber' },
  { name: 'company', label: 'Company Name' },
  { name: 'website', label: 'Website URL' },
  { name: 'jobtitle', label: 'Job Title' },
  { name: 'city', label: 'City' },
  { name: 'state', label: 'State/Region' },
  { name: 'country', label: 'Country/Region' },
  {
    name: 'lifecyclestage',
    label: 'Lifecycle Stage',
    type: 'enumeration',
    fieldType: 'radio',
    values: LIFECYCLE_STAGES,
  },
  {
    name: 'hs_lead_status',
    label: 'Lead Status',
    type: 'enumeration',
    fieldType: 'radio',
    values: LEAD_STATUSES,
  },
  {
    name: 'customer_tier',
    label: 'Customer Tier',
    type: 'enumeration',
    fieldType: 'select',
    values: CUSTOMER_TIERS,
    custom: true,
  },
  { name: 'nps_score', label: 'NPS Score', type: 'number', fieldType: 'number', custom: true },
  {
    name: 'newsletter_opt_in',
    label: 'Newsletter Opt-in',
    type: 'bool',
    fieldType: 'booleancheckbox',
    values: ['true', 'false'],
    custom: true,
  },
  { name: 'favorite_product', label: 'Favorite Product', custom: true },
  { name: 'notes_last_contacted', label: 'Last Contacted', type: 'datetime', fieldType: 'date' },
  { name: 'address', label: 'Street Address' },
  { name: 'zip', label: 'Postal Code' },
  {
    name: 'hubspot_owner_id',
    label: 'Contact owner',
    type: 'enumeration',
    fieldType: 'select',
    // HubSpot fills the options with the portal's owners; the simulated portal has a few.
    values: ['31000001', '31000002', '31000003', '31000004', '31000005'],
  },
];

/** The definitions every simulated portal starts with, before its generated custom ones. */
export const PROPERTY_DEFINITIONS: readonly PropertyDefinition[] = specs.map((spec) => ({
  name: spec.name,
  label: spec.label,
  type: spec.type ?? 'string',
  fieldType: spec.fieldType ?? 'text',
  groupName: spec.custom ? 'custom_properties' : 'contactinformation',
  description: spec.custom ? `Custom property: ${spec.label.toLowerCase()}` : '',
  options: spec.values ? options(spec.values) : [],
  hubspotDefined: !spec.custom,
  readOnly: spec.readOnly ?? false,
  subscribed: !spec.readOnly,
}));

/** What HubSpot returns when a read names no properties. */
export const DEFAULT_PROPERTIES = [
  'createdate',
  'email',
  'firstname',
  'hs_object_id',
  'lastmodifieddate',
  'lastname',
] as const;
