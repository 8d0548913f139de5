<#
.SYNOPSIS
    Collect kijun raw facts on a Windows terminal (read-only) and write them as one JSON file.

.DESCRIPTION
    kijun-collect.ps1 runs a fixed set of read-only probes (secedit, auditpol, w32tm, Defender,
    Security Center, hotfixes, local administrators, selected registry values, credential
    providers, services, smart-card readers) and writes their output unparsed, in the kijun raw
    facts format: {host, collected_at, collector, items: {"probe:<name>": {kind, exists, cmd, rc,
    stdout, sha256, stderr}}}. kijun parses the outputs on the scanner side (docs/windows.md).

    Run it elevated: secedit and auditpol need administrator rights. It changes nothing on the
    host; the secedit export and its log go to temporary files that are deleted at once. Password
    hashes are never read; a policy line named like a stored secret has its value replaced by
    <removed by kijun-collect> before anything is written.
    Windows PowerShell 5.1 or PowerShell 7. Each probe is independent: one that fails is recorded
    with its return code and error, and the others still run.

.PARAMETER OutFile
    Where to write the JSON (UTF-8 without BOM). Without it the JSON goes to the output stream,
    which is what Invoke-Command from a management server collects.

.PARAMETER HostName
    The host name as the kijun inventory spells it (default: the computer name in lower case).

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File kijun-collect.ps1 -OutFile C:\kijun\mn-term-w01.json

.EXAMPLE
    $json = Invoke-Command -ComputerName MN-TERM-W01 -FilePath .\kijun-collect.ps1 -ArgumentList '', 'mn-term-w01'
    [IO.File]::WriteAllText("$PWD\exports\mn-term-w01.json", $json, (New-Object Text.UTF8Encoding($false)))
    # From a management server; docs/windows.md has the loop for many terminals. Never save with
    # Set-Content/Out-File -Encoding UTF8 in Windows PowerShell 5.1: they add a BOM kijun rejects.
#>
[CmdletBinding()]
param(
    [string]$OutFile = '',
    [string]$HostName = ''
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$CollectorVersion = '1.0.0'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

# Windows PowerShell 5.1 adds a Count property to arrays that makes ConvertTo-Json write
# {"value": [...], "Count": n}; removing that type data (this session only) keeps arrays arrays.
Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue

# Registry keys and the values read from each ('*': every value). kijun's parser
# (scanner/facts/windows_registry.py) names the same keys. A missing key is written as null.
$RegistryValues = [ordered]@{
    'HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR'                                   = @('Start')
    'HKLM\SYSTEM\CurrentControlSet\Services\UASPStor'                                  = @('Start')
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions'              = @('DenyRemovableDevices', 'DenyDeviceClasses', 'DenyDeviceClassesRetroactive')
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions\DenyDeviceClasses' = @('*')
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices'                  = @('Deny_All')
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}' = @('Deny_Read', 'Deny_Write', 'Deny_Execute')
    'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'                   = @('InactivityTimeoutSecs', 'scforceoption')
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\System'                                  = @('ExcludedCredentialProviders', 'BlockDomainPicturePassword', 'AllowDomainPINLogon')
    'HKLM\SOFTWARE\Policies\Microsoft\PassportForWork'                                 = @('Enabled', 'RequireSecurityDevice')
}
# The screen-saver policy is per user: it is read from every loaded domain or local user profile.
$DesktopPolicy = '\Software\Policies\Microsoft\Windows\Control Panel\Desktop'
$DesktopValues = @('ScreenSaveActive', 'ScreenSaverIsSecure', 'ScreenSaveTimeOut')
$DefenderProperties = @('AMServiceEnabled', 'AntivirusEnabled', 'RealTimeProtectionEnabled', 'BehaviorMonitorEnabled',
    'IsTamperProtected', 'AMRunningMode', 'AMProductVersion', 'AntivirusSignatureVersion', 'AntivirusSignatureAge')
$ProvidersKey = 'Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\'

$Items = [ordered]@{}

function Get-Sha256Hex([string]$Text) {
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    } finally {
        $sha.Dispose()
    }
    return (($hash | ForEach-Object { $_.ToString('x2') }) -join '')
}

function ConvertTo-JsonText($Value) {
    # -InputObject keeps an empty or one-element array an array.
    return (ConvertTo-Json -InputObject $Value -Depth 6)
}

function Get-PropertyValue($Object, [string]$Name) {
    # Strict mode forbids reading a property an older Windows does not have; that reads as null.
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Format-Date($Value) {
    if ($null -eq $Value -or '' -eq $Value) { return $null }
    return ([datetime]$Value).ToString('o', $Invariant)
}

function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    if (-not (Get-Command -Name $Exe -CommandType Application -ErrorAction SilentlyContinue)) {
        throw (New-Object System.Management.Automation.CommandNotFoundException "$Exe was not found")
    }
    # Windows PowerShell turns each stderr line of a native command into an error record, which
    # 'Stop' would throw; here they are collected as stderr instead.
    $ErrorActionPreference = 'Continue'
    $lines = @(& $Exe @Arguments 2>&1)
    $rc = $LASTEXITCODE
    $out = New-Object System.Collections.Generic.List[string]
    $err = New-Object System.Collections.Generic.List[string]
    foreach ($line in $lines) {
        if ($line -is [System.Management.Automation.ErrorRecord]) { $err.Add($line.ToString()) } else { $out.Add([string]$line) }
    }
    return @{ rc = [int]$rc; stdout = ($out -join "`n"); stderr = ($err -join "`n") }
}

function Add-Probe([string]$Name, [string]$Cmd, [scriptblock]$Body) {
    $rc = 0
    $stdout = ''
    $stderr = ''
    try {
        $output = @(& $Body)
        $result = if ($output.Count -gt 0) { $output[$output.Count - 1] } else { '' }
        if ($result -is [hashtable]) {
            $rc = [int]$result.rc
            $stdout = [string]$result.stdout
            $stderr = [string]$result.stderr
        } else {
            $stdout = [string]$result
        }
    } catch [System.Management.Automation.CommandNotFoundException] {
        $rc = 127
        $stderr = $_.Exception.Message
    } catch {
        $rc = 1
        $stderr = $_.Exception.Message
    }
    $item = [ordered]@{ kind = 'probe'; exists = $true; cmd = $Cmd; rc = $rc; stdout = $stdout; sha256 = (Get-Sha256Hex $stdout) }
    if ($stderr) { $item['stderr'] = $stderr }
    $Items["probe:$Name"] = $item
}

function Remove-Secret([string]$Text) {
    # A security-policy export holds settings, not password hashes; a line whose key names a
    # stored secret (an autologon DefaultPassword, an LSA secret) still loses its value here.
    $kept = foreach ($line in ($Text -split "`n")) {
        if ($line -match '^\s*([^=;\[]*(DefaultPassword|Secret|PrivateKey|Passphrase)[^=]*)=') {
            $Matches[1].TrimEnd() + '=<removed by kijun-collect>'
        } else {
            $line
        }
    }
    return ($kept -join "`n")
}

function Read-RegistryValue([string]$Key, [string[]]$Names) {
    $path = 'Registry::' + ($Key -replace '^HKLM\\', 'HKEY_LOCAL_MACHINE\' -replace '^HKU\\', 'HKEY_USERS\')
    if (-not (Test-Path -LiteralPath $path)) { return $null }
    $item = Get-Item -LiteralPath $path
    $wanted = $Names
    if ($Names -contains '*') { $wanted = @($item.GetValueNames() | Where-Object { $_ -ne '' }) }
    $values = [ordered]@{}
    foreach ($name in $wanted) {
        $value = $item.GetValue($name, $null, 'DoNotExpandEnvironmentNames')
        if ($null -ne $value -and $value -isnot [byte[]]) { $values[$name] = $value }
    }
    return $values
}

function Get-CredentialProvider([string]$Key) {
    if (-not (Test-Path -LiteralPath ($ProvidersKey + $Key))) { return @() }
    return @(Get-ChildItem -LiteralPath ($ProvidersKey + $Key) | ForEach-Object {
            [ordered]@{ clsid = $_.PSChildName; name = $_.GetValue(''); disabled = $_.GetValue('Disabled') }
        })
}

if (-not $HostName) { $HostName = $env:COMPUTERNAME.ToLowerInvariant() }
$CollectedAt = (Get-Date).ToString("yyyy-MM-dd'T'HH:mm:sszzz", $Invariant)

Add-Probe 'win-os' 'Get-CimInstance Win32_OperatingSystem, Win32_ComputerSystem; HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion | ConvertTo-Json' {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem
    $cv = Get-ItemProperty -LiteralPath 'Registry::HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    ConvertTo-JsonText ([ordered]@{
            Caption        = [string]$os.Caption
            Version        = [string]$os.Version
            BuildNumber    = [string]$os.BuildNumber
            DisplayVersion = (Get-PropertyValue $cv 'DisplayVersion')
            UBR            = (Get-PropertyValue $cv 'UBR')
            OSArchitecture = [string]$os.OSArchitecture
            ProductType    = [int]$os.ProductType
            PartOfDomain   = [bool]$cs.PartOfDomain
            Domain         = [string]$cs.Domain
            LastBootUpTime = (Format-Date $os.LastBootUpTime)
        })
}

Add-Probe 'win-secedit' 'secedit /export /cfg <temporary file> /areas SECURITYPOLICY /log <temporary file> /quiet' {
    # Both the export and secedit's log go to temporary files (not %windir%\security\logs).
    $path = Join-Path ([System.IO.Path]::GetTempPath()) ('kijun-secedit-' + [guid]::NewGuid().ToString('N') + '.inf')
    $log = [System.IO.Path]::ChangeExtension($path, '.log')
    try {
        $run = Invoke-Native 'secedit.exe' @('/export', '/cfg', $path, '/areas', 'SECURITYPOLICY', '/log', $log, '/quiet')
        if ($run.rc -ne 0 -or -not (Test-Path -LiteralPath $path)) {
            $rc = $run.rc
            if ($rc -eq 0) { $rc = 1 }
            return @{ rc = $rc; stdout = ''; stderr = ($run.stdout + "`n" + $run.stderr).Trim() }
        }
        # secedit writes UTF-16 with a byte order mark, which ReadAllText detects.
        $text = [System.IO.File]::ReadAllText($path) -replace "`r`n", "`n"
        return @{ rc = 0; stdout = (Remove-Secret $text); stderr = '' }
    } finally {
        foreach ($file in @($path, $log)) {
            if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force }
        }
    }
}

Add-Probe 'win-auditpol' 'auditpol /get /category:* /r' {
    Invoke-Native 'auditpol.exe' @('/get', '/category:*', '/r')
}

Add-Probe 'win-w32tm' 'w32tm /query /status /verbose' {
    Invoke-Native 'w32tm.exe' @('/query', '/status', '/verbose')
}

Add-Probe 'win-defender' ('Get-MpComputerStatus | Select-Object ' + ($DefenderProperties -join ', ') + ', AntivirusSignatureLastUpdated | ConvertTo-Json') {
    $status = Get-MpComputerStatus
    $out = [ordered]@{}
    foreach ($name in $DefenderProperties) { $out[$name] = Get-PropertyValue $status $name }
    if ($null -ne $out['AMRunningMode']) { $out['AMRunningMode'] = [string]$out['AMRunningMode'] }
    $out['AntivirusSignatureLastUpdated'] = Format-Date (Get-PropertyValue $status 'AntivirusSignatureLastUpdated')
    ConvertTo-JsonText $out
}

Add-Probe 'win-av-products' 'Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | ConvertTo-Json' {
    # Workstations only: Windows Server has no SecurityCenter2 namespace (the probe then fails).
    $list = @(Get-CimInstance -Namespace 'root/SecurityCenter2' -ClassName 'AntiVirusProduct' | ForEach-Object {
            [ordered]@{
                displayName  = [string](Get-PropertyValue $_ 'displayName')
                instanceGuid = [string](Get-PropertyValue $_ 'instanceGuid')
                productState = [int](Get-PropertyValue $_ 'productState')
                timestamp    = [string](Get-PropertyValue $_ 'timestamp')
            }
        })
    ConvertTo-JsonText $list
}

Add-Probe 'win-hotfix' 'Get-HotFix | Select-Object HotFixID, Description, InstalledOn | ConvertTo-Json' {
    $list = @(Get-HotFix | ForEach-Object {
            $installed = $null
            try { $installed = Get-PropertyValue $_ 'InstalledOn' } catch { $installed = $null }
            $day = $null
            if ($installed) { $day = ([datetime]$installed).ToString('yyyy-MM-dd', $Invariant) }
            [ordered]@{ HotFixID = [string]$_.HotFixID; Description = [string]$_.Description; InstalledOn = $day }
        })
    ConvertTo-JsonText $list
}

Add-Probe 'win-local-admins' 'Get-LocalGroupMember -SID S-1-5-32-544 | ConvertTo-Json' {
    $list = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
            [ordered]@{
                Name            = [string]$_.Name
                SID             = [string]$_.SID
                ObjectClass     = [string]$_.ObjectClass
                PrincipalSource = [string](Get-PropertyValue $_ 'PrincipalSource')
            }
        })
    ConvertTo-JsonText $list
}

Add-Probe 'win-registry' 'selected registry values ($RegistryValues and each loaded user''s Control Panel\Desktop policy) | ConvertTo-Json' {
    $found = [ordered]@{}
    foreach ($key in $RegistryValues.Keys) { $found[$key] = Read-RegistryValue $key $RegistryValues[$key] }
    $sids = @(Get-ChildItem -LiteralPath 'Registry::HKEY_USERS' | ForEach-Object { $_.PSChildName } |
            Where-Object { $_ -match '^S-1-5-21-[0-9-]+$' })
    foreach ($sid in $sids) {
        $key = 'HKU\' + $sid + $DesktopPolicy
        $found[$key] = Read-RegistryValue $key $DesktopValues
    }
    ConvertTo-JsonText $found
}

Add-Probe 'win-credential-providers' 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\Credential Providers, Credential Provider Filters | ConvertTo-Json' {
    $filters = @(Get-CredentialProvider 'Credential Provider Filters' | ForEach-Object { [ordered]@{ clsid = $_.clsid; name = $_.name } })
    ConvertTo-JsonText ([ordered]@{ providers = @(Get-CredentialProvider 'Credential Providers'); filters = $filters })
}

Add-Probe 'win-services' 'Get-Service | Select-Object Name, Status, StartType | ConvertTo-Json' {
    $list = @(Get-Service -ErrorAction SilentlyContinue | ForEach-Object {
            [ordered]@{ Name = [string]$_.Name; Status = [string]$_.Status; StartType = [string](Get-PropertyValue $_ 'StartType') }
        })
    ConvertTo-JsonText $list
}

Add-Probe 'win-smartcard-readers' "Get-CimInstance Win32_PnPEntity -Filter ""PNPClass='SmartCardReader'"" | ConvertTo-Json" {
    $list = @(Get-CimInstance -ClassName Win32_PnPEntity -Filter "PNPClass='SmartCardReader'" | ForEach-Object {
            [ordered]@{ Name = [string]$_.Name; Status = [string]$_.Status; DeviceID = [string]$_.DeviceID }
        })
    ConvertTo-JsonText $list
}

$document = [ordered]@{
    host         = $HostName
    collected_at = $CollectedAt
    collector    = [ordered]@{ name = 'kijun-windows'; version = $CollectorVersion; powershell = $PSVersionTable.PSVersion.ToString() }
    items        = $Items
}
$json = ConvertTo-Json -InputObject $document -Depth 6
if ($OutFile) {
    # Resolve against the PowerShell location (not the process directory), write UTF-8 without BOM.
    $target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
    [System.IO.File]::WriteAllText($target, $json, (New-Object System.Text.UTF8Encoding($false)))
} else {
    $json
}
